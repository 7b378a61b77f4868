// Which classes the model mixes up (lesson: reports).
//
// Accuracy is one number; the confusion matrix shows where the errors go.
// Row = the true class, column = the class the model predicted, cell = how
// many test examples fell there. A perfect model fills only the diagonal.

import Kindling

/// What a model answered for every example of a dataset, next to the truth.
public struct Predictions: Sendable, Equatable {
    /// The predicted class of each example, in dataset order.
    public let predicted: [Int]
    /// The true class of each example, in dataset order.
    public let actual: [Int]

    /// Predictions given directly (`predicted` and `actual` must have the same length).
    public init(predicted: [Int], actual: [Int]) {
        precondition(predicted.count == actual.count,
                     "Predictions: \(predicted.count) predictions for \(actual.count) labels")
        self.predicted = predicted
        self.actual = actual
    }

    /// Runs `model` over every example of `dataset`, `batchSize` at a time, and
    /// keeps the class with the highest score. The model runs in evaluation
    /// mode (dropout off) without recording a graph (`noGrad`); it is put back
    /// into the mode it was in afterwards.
    public init(model: Module, dataset: any Dataset, batchSize: Int = 1000) {
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        var predicted: [Int] = [], actual: [Int] = []
        noGrad {
            for batch in DataLoader(dataset, batchSize: batchSize) {
                predicted += model(batch.inputs).argmax(axis: 1).toArray().map { Int($0) }
                actual += batch.labels
            }
        }
        self.init(predicted: predicted, actual: actual)
    }

    /// How many examples there are.
    public var count: Int { actual.count }

    /// Whether the model got example `index` right.
    public func isCorrect(_ index: Int) -> Bool { predicted[index] == actual[index] }

    /// The indices of the examples the model got wrong, in dataset order.
    public var misclassified: [Int] { actual.indices.filter { !isCorrect($0) } }
}

/// Counts of (true class, predicted class) pairs: `self[actual: 3, predicted: 6]`
/// is how many dresses the model called shirts.
public struct ConfusionMatrix: Sendable, Equatable {
    /// The number of classes: rows and columns.
    public let classCount: Int
    /// The counts, `counts[actual][predicted]`.
    public private(set) var counts: [[Int]]

    /// An all-zero matrix for `classCount` classes.
    public init(classCount: Int) {
        precondition(classCount > 0, "ConfusionMatrix: needs at least one class")
        self.classCount = classCount
        counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    }

    /// The matrix of `predictions`, with at least `classCount` classes (more if
    /// a label or prediction is larger).
    public init(_ predictions: Predictions, classCount: Int) {
        let largest = (predictions.actual + predictions.predicted).max() ?? 0
        self.init(classCount: max(classCount, largest + 1))
        for (a, p) in zip(predictions.actual, predictions.predicted) { record(actual: a, predicted: p) }
    }

    /// Counts one example of class `actual` predicted as `predicted`.
    public mutating func record(actual: Int, predicted: Int) {
        precondition((0..<classCount).contains(actual) && (0..<classCount).contains(predicted),
                     "ConfusionMatrix: class \(actual) or \(predicted) is outside 0..<\(classCount)")
        counts[actual][predicted] += 1
    }

    /// How many examples of class `actual` were predicted as `predicted`.
    public subscript(actual actual: Int, predicted predicted: Int) -> Int { counts[actual][predicted] }

    /// How many examples were counted in all.
    public var total: Int { counts.joined().reduce(0, +) }

    /// How many were predicted correctly: the diagonal.
    public var correct: Int { (0..<classCount).reduce(0) { $0 + counts[$1][$1] } }

    /// The fraction predicted correctly, or `nil` when the matrix is empty.
    public var accuracy: Double? { total == 0 ? nil : Double(correct) / Double(total) }

    /// How many examples truly belong to class `c`: row `c`'s sum.
    public func examples(ofClass c: Int) -> Int { counts[c].reduce(0, +) }

    /// The fraction of class `c`'s examples predicted correctly (its recall),
    /// or `nil` when the class has no examples.
    public func accuracy(ofClass c: Int) -> Double? {
        let n = examples(ofClass: c)
        return n == 0 ? nil : Double(counts[c][c]) / Double(n)
    }
}
