// Reverse-mode automatic differentiation over the recorded graph (lesson 6).
//
// `backward()` visits the tensors in reverse topological order — every
// tensor after all the tensors that used it — so each one's gradient is
// complete before it is pushed further back.

extension Tensor {
    /// Every tensor that `self` depends on through gradient-requiring
    /// operations, `self` included and last, each after all of its inputs.
    /// Inputs that do not require grad (data, constants) are left out: no
    /// gradient flows to them.
    ///
    /// Iterative depth-first search with an explicit stack: a recursive one
    /// overflows the call stack on long chains.
    public func topologicalOrder() -> [Tensor] {
        // BEGIN EXERCISE 6.2 — a topological order of the tensor graph (Lessons/06-tensor-autograd.md)
        fatalError("Exercise 6.2 is not done yet: a topological order of the tensor graph — see Lessons/06-tensor-autograd.md")
        // END EXERCISE 6.2
    }

    /// Computes the gradient of this tensor with respect to every leaf that
    /// requires grad, and *adds* it to their `grad` (call `zeroGrad()` between
    /// steps).
    ///
    /// - Parameters:
    ///   - gradient: d(something)/d(self). May be omitted for a one-element
    ///     tensor, where it is 1.
    ///   - retainGraph: keep the graph so `backward` can run through it again.
    ///     By default each node's saved tensors are freed as it is used.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        require(requiresGrad, "backward: this tensor does not require grad (no input had requiresGrad = true, or it was computed inside noGrad)")
        let seed: Tensor
        if let gradient {
            require(gradient.shape == shape,
                    "backward: gradient of shape \(gradient.shape) does not match tensor of shape \(shape)")
            seed = gradient
        } else {
            require(count == 1, "backward: an implicit gradient needs a one-element tensor, not shape \(shape); pass backward(gradient)")
            seed = Tensor.ones(shape)
        }
        // BEGIN EXERCISE 6.5 — backward: gradients flow in reverse topological order (Lessons/06-tensor-autograd.md)
        _ = seed; fatalError("Exercise 6.5 is not done yet: backward: gradients flow in reverse topological order — see Lessons/06-tensor-autograd.md")
        // END EXERCISE 6.5
    }

    /// Adds `g` to this leaf's `grad`: in place when a gradient is already
    /// held, otherwise as a private copy — `g` may be the very tensor another
    /// leaf receives too, and a later `+=` into one must not change the other.
    public func accumulateGrad(_ g: Tensor) {
        // BEGIN EXERCISE 6.3 — accumulate a leaf's gradient (Lessons/06-tensor-autograd.md)
        fatalError("Exercise 6.3 is not done yet: accumulate a leaf's gradient — see Lessons/06-tensor-autograd.md")
        // END EXERCISE 6.3
    }

    /// Forgets the accumulated gradient (`grad = nil`).
    public func zeroGrad() { grad = nil }
}

extension GraphNode {
    /// Runs this node's backward rule on `g`, the gradient of its output: one
    /// gradient per input, each of that input's shape (or `nil`). Frees the
    /// rule — and the tensors it saved — unless `retainGraph`.
    public func inputGradients(_ g: Tensor, retainGraph: Bool) -> [Tensor?] {
        guard let rule = backward else {
            fatalError("backward: the graph through '\(op)' was freed by an earlier backward(); pass retainGraph: true to the first call to go through it twice")
        }
        let grads = rule(g)
        if !retainGraph { backward = nil }
        require(grads.count == inputs.count,
                "backward: '\(op)' returned \(grads.count) gradients for \(inputs.count) inputs")
        for (input, grad) in zip(inputs, grads) where input.requiresGrad {
            guard let grad else { continue }
            require(grad.shape == input.shape,
                    "backward: '\(op)' produced a gradient of shape \(grad.shape) for an input of shape \(input.shape)")
        }
        return grads
    }
}
