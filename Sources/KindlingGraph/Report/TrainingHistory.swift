// The record of a training run (lesson: reports). The training loop fills it
// in one epoch at a time; `TrainingReport` turns it into charts and a header.

/// What happened during one training run: the settings, then one entry per
/// epoch with the training loss, the test accuracy and the time it took.
///
///     var history = TrainingHistory(modelName: "mlp", parameterCount: net.parameterCount,
///                                   optimizer: "sgd, momentum 0.9", learningRate: "0.05, cosine schedule",
///                                   batchSize: 64, seed: 0)
///     for epoch in 1...epochs {
///         … train, then measure …
///         history.append(trainLoss: loss, testAccuracy: accuracy, seconds: seconds)
///     }
public struct TrainingHistory: Sendable, Equatable, Codable {
    /// The numbers measured at the end of one epoch.
    public struct Epoch: Sendable, Equatable, Codable {
        /// The epoch's number, counting from 1.
        public var number: Int
        /// The mean training loss over the epoch's examples.
        public var trainLoss: Double
        /// The fraction of the test set classified correctly after the epoch, 0…1.
        public var testAccuracy: Double
        /// The wall-clock time the epoch took, in seconds.
        public var seconds: Double

        /// One epoch's measurements.
        public init(number: Int, trainLoss: Double, testAccuracy: Double, seconds: Double) {
            self.number = number
            self.trainLoss = trainLoss
            self.testAccuracy = testAccuracy
            self.seconds = seconds
        }
    }

    /// The model's name, e.g. `"mlp"`.
    public var modelName: String
    /// How many trainable numbers the model has.
    public var parameterCount: Int
    /// The optimizer, described for people, e.g. `"sgd, momentum 0.9"`.
    public var optimizer: String
    /// The learning rate and its schedule, described for people, e.g. `"0.05, cosine schedule"`.
    public var learningRate: String
    /// Examples per optimizer step.
    public var batchSize: Int
    /// The random seed of the run.
    public var seed: UInt64
    /// The dataset trained on, e.g. `"Fashion-MNIST"`.
    public var dataset: String
    /// The epochs recorded so far, in order.
    public private(set) var epochs: [Epoch] = []

    /// An empty history for a run with these settings.
    public init(modelName: String, parameterCount: Int, optimizer: String, learningRate: String,
                batchSize: Int, seed: UInt64, dataset: String = "Fashion-MNIST") {
        self.modelName = modelName
        self.parameterCount = parameterCount
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.seed = seed
        self.dataset = dataset
    }

    /// Records the next epoch (numbered one past the last).
    public mutating func append(trainLoss: Double, testAccuracy: Double, seconds: Double) {
        epochs.append(Epoch(number: epochs.count + 1, trainLoss: trainLoss,
                            testAccuracy: testAccuracy, seconds: seconds))
    }

    /// The test accuracy after the last epoch, or `nil` before any.
    public var finalAccuracy: Double? { epochs.last?.testAccuracy }

    /// The epoch with the highest test accuracy (the earliest, on a tie), or `nil` before any.
    public var bestEpoch: Epoch? {
        epochs.reduce(nil) { best, e in
            guard let best else { return e }
            return e.testAccuracy > best.testAccuracy ? e : best
        }
    }

    /// The time all recorded epochs took together, in seconds.
    public var totalSeconds: Double { epochs.reduce(0) { $0 + $1.seconds } }
}
