// Reverse-mode automatic differentiation over the recorded graph (lesson 6).
//
// `backward()` visits the tensors in reverse topological order — every
// tensor after all the tensors that used it — so each one's gradient is
// complete before it is pushed further back.

extension Tensor {
    /// Every tensor that `self` depends on through gradient-requiring
    /// operations, inputs before the tensors computed from them.
    ///
    /// Iterative depth-first search with an explicit stack: a recursive one
    /// overflows the call stack on long chains.
    public func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(tensor: Tensor, inputsDone: Bool)] = [(self, false)]
        while let (tensor, inputsDone) = stack.popLast() {
            if inputsDone {
                order.append(tensor)
                continue
            }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.requiresGrad {
                if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
            }
        }
        return order
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
        precondition(requiresGrad, "backward: this tensor does not require grad (no input had requiresGrad = true, or it was computed inside noGrad)")
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape,
                         "backward: gradient of shape \(gradient.shape) does not match tensor of shape \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward: an implicit gradient needs a one-element tensor, not shape \(shape); pass backward(gradient)")
            seed = Tensor.ones(shape)
        }
        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        noGrad {
            for tensor in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let node = tensor.node else {
                    tensor.accumulateGrad(g)
                    continue
                }
                guard let rule = node.backward else {
                    preconditionFailure("backward: the graph through '\(node.op)' was freed by an earlier backward(); pass retainGraph: true to the first call to go through it twice")
                }
                let inputGrads = rule(g)
                if !retainGraph { node.backward = nil }
                for (input, inputGrad) in zip(node.inputs, inputGrads) where input.requiresGrad {
                    guard let inputGrad else { continue }
                    precondition(inputGrad.shape == input.shape,
                                 "backward: '\(node.op)' produced a gradient of shape \(inputGrad.shape) for an input of shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { $0 + inputGrad } ?? inputGrad
                }
            }
        }
    }

    /// Adds `g` to this leaf's `grad`, in place when a gradient is already held.
    func accumulateGrad(_ g: Tensor) {
        if let existing = grad {
            existing.addInPlace(g)
        } else {
            grad = g.copy()  // a private copy: `g` may be shared with other leaves
        }
    }

    /// Forgets the accumulated gradient (`grad = nil`).
    public func zeroGrad() { grad = nil }
}
