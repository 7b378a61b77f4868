#if canImport(Glibc)
import Glibc
#endif

// Optimizers update parameters from their gradients (lesson 9). Each update
// rule is written first as its math, then as one loop over the raw
// elements — the FAST path: no temporary tensors, no graph.

/// The base of every optimizer: the parameters it updates and its learning rate.
open class Optimizer {
    /// The tensors updated by `step()`.
    public let parameters: [Tensor]
    /// The step size; schedulers change it between epochs.
    public var learningRate: Float
    /// How many `step()` calls have run.
    public private(set) var stepCount = 0

    /// An optimizer over `parameters` (each must be a contiguous leaf).
    public init(parameters: [Tensor], learningRate: Float) {
        for p in parameters {
            require(p.isLeaf && p.isContiguous, "Optimizer: parameters must be contiguous leaf tensors")
        }
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// Applies one update to every parameter that has a gradient.
    public func step() {
        stepCount += 1
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad?.contiguous() else { continue }
            withExtendedLifetime(grad) {  // `g` points into grad's storage
                let g = UnsafeBufferPointer(start: grad.storage.base + grad.offset, count: grad.count)
                p.withUnsafeMutableElements { update(parameter: i, values: $0, gradient: g) }
            }
        }
    }

    /// The update rule for one parameter. Subclasses override it.
    open func update(parameter index: Int, values: UnsafeMutableBufferPointer<Float>,
                     gradient: UnsafeBufferPointer<Float>) {
        fatalError("\(type(of: self)) must override update(parameter:values:gradient:)")
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
}

/// A zero-filled buffer per parameter, for optimizer state (freed by the owner).
func zeroBuffers(like parameters: [Tensor]) -> [UnsafeMutableBufferPointer<Float>] {
    parameters.map { p in
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: p.count)
        b.initialize(repeating: 0)
        return b
    }
}

/// Stochastic gradient descent, with PyTorch's options:
///
///     g ← ∇ + λ·θ                                (weight decay λ)
///     v ← μ·v + g        (v ← g on the first step) (momentum μ)
///     g ← g + μ·v  (Nesterov)   or   g ← v
///     θ ← θ − lr·g
public final class SGD: Optimizer {
    /// Momentum μ (0: plain SGD).
    public let momentum: Float
    /// L2 penalty λ added to the gradient.
    public let weightDecay: Float
    /// Nesterov's look-ahead variant of momentum.
    public let nesterov: Bool
    private let velocity: [UnsafeMutableBufferPointer<Float>]

    /// An SGD optimizer.
    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0,
                nesterov: Bool = false) {
        require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        velocity = momentum > 0 ? zeroBuffers(like: parameters) : []
        super.init(parameters: parameters, learningRate: learningRate)
    }

    deinit { velocity.forEach { $0.deallocate() } }

    public override func update(parameter index: Int, values θ: UnsafeMutableBufferPointer<Float>,
                                gradient: UnsafeBufferPointer<Float>) {
        // BEGIN EXERCISE 9.6 — one SGD step with weight decay and momentum (Lessons/09-losses-optimizers.md)
        fatalError("Exercise 9.6 is not done yet: one SGD step with weight decay and momentum — see Lessons/09-losses-optimizers.md")
        // END EXERCISE 9.6
    }
}

/// Adam: per-parameter step sizes from running averages of the gradient (m)
/// and its square (v), bias-corrected for their zero start.
///
///     m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
///     θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
///
/// `weightDecay` adds λθ to the gradient (L2, as `torch.optim.Adam`);
/// `AdamW` decays the weights directly instead.
public class Adam: Optimizer {
    /// β₁, β₂.
    public let betas: (Float, Float)
    /// ε, added to the denominator.
    public let epsilon: Float
    /// λ.
    public let weightDecay: Float
    /// Whether decay is decoupled from the gradient (AdamW).
    let decoupled: Bool
    private let m: [UnsafeMutableBufferPointer<Float>]
    private let v: [UnsafeMutableBufferPointer<Float>]
    /// Updates each parameter has received: t in the bias correction. Counted
    /// per parameter, as in PyTorch, because a parameter without a gradient
    /// (a frozen layer, an unused branch) skips a step.
    private var updates: [Int]

    /// An Adam optimizer.
    public init(parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = type(of: self) != Adam.self
        m = zeroBuffers(like: parameters)
        v = zeroBuffers(like: parameters)
        updates = [Int](repeating: 0, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    deinit {
        m.forEach { $0.deallocate() }
        v.forEach { $0.deallocate() }
    }

    public override func update(parameter index: Int, values θ: UnsafeMutableBufferPointer<Float>,
                                gradient: UnsafeBufferPointer<Float>) {
        // BEGIN EXERCISE 9.7 — one Adam step with bias correction (Lessons/09-losses-optimizers.md)
        fatalError("Exercise 9.7 is not done yet: one Adam step with bias correction — see Lessons/09-losses-optimizers.md")
        // END EXERCISE 9.7
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ·(1 − lr·λ)
/// before the Adam step. Default λ = 0.01, as in PyTorch.
public final class AdamW: Adam {
    /// An AdamW optimizer.
    public override init(parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                         epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        super.init(parameters: parameters, learningRate: learningRate, betas: betas, epsilon: epsilon,
                   weightDecay: weightDecay)
    }
}
