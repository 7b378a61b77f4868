#if canImport(Glibc)
import Glibc
#endif

/// Changes an optimizer's learning rate as training goes on (lesson 9). Call `step()`
/// once per epoch, after the epoch's optimizer steps.
public protocol LRScheduler: AnyObject {
    /// Advances one epoch and updates the optimizer's learning rate.
    func step()
}

/// Multiplies the learning rate by `gamma` every `stepSize` epochs.
public final class StepLR: LRScheduler {
    /// The optimizer whose rate is changed.
    public let optimizer: Optimizer
    /// Epochs between decays.
    public let stepSize: Int
    /// The decay factor.
    public let gamma: Float
    private let initial: Float
    /// Epochs completed.
    public private(set) var epoch = 0

    /// A step schedule.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Float = 0.1) {
        require(stepSize > 0, "StepLR: stepSize must be positive")
        self.optimizer = optimizer
        self.stepSize = stepSize
        self.gamma = gamma
        self.initial = optimizer.learningRate
    }

    /// Advances one epoch and sets the optimizer's learning rate.
    public func step() {
        epoch += 1
        optimizer.learningRate = initial * powf(gamma, Float(epoch / stepSize))
    }
}

/// Anneals the learning rate from its initial value to `minimum` along half a
/// cosine over `totalEpochs`: lr = min + (lr₀ − min)·(1 + cos(π·t/T))/2.
public final class CosineAnnealingLR: LRScheduler {
    /// The optimizer whose rate is changed.
    public let optimizer: Optimizer
    /// T, the epochs to reach the minimum.
    public let totalEpochs: Int
    /// The final learning rate.
    public let minimum: Float
    private let initial: Float
    /// Epochs completed.
    public private(set) var epoch = 0

    /// A cosine schedule.
    public init(_ optimizer: Optimizer, totalEpochs: Int, minimum: Float = 0) {
        require(totalEpochs > 0, "CosineAnnealingLR: totalEpochs must be positive")
        self.optimizer = optimizer
        self.totalEpochs = totalEpochs
        self.minimum = minimum
        self.initial = optimizer.learningRate
    }

    /// Advances one epoch and sets the optimizer's learning rate.
    public func step() {
        // BEGIN EXERCISE 9.8 — the cosine learning-rate schedule (Lessons/09-losses-optimizers.md)
        fatalError("Exercise 9.8 is not done yet: the cosine learning-rate schedule — see Lessons/09-losses-optimizers.md")
        // END EXERCISE 9.8
    }
}
