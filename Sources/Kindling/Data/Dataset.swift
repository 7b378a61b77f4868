// Datasets and the loader that cuts them into mini-batches (lesson 10).
//
// A `Dataset` answers two questions: how many examples, and what is example i.
// A `DataLoader` decides the *order* (shuffled afresh each epoch, from a seed,
// so runs repeat exactly) and groups indices into batches.

/// A mini-batch: a stack of inputs and the matching targets.
public struct Batch {
    /// The inputs, with the batch along axis 0 (e.g. `[64, 1, 28, 28]`).
    public let inputs: Tensor
    /// The targets, with the batch along axis 0 (e.g. `[64]` class labels).
    public let targets: Tensor

    /// A batch of `inputs` and their `targets`.
    public init(inputs: Tensor, targets: Tensor) {
        self.inputs = inputs
        self.targets = targets
    }

    /// The targets as integers — class labels for `crossEntropy` or accuracy.
    public var labels: [Int] { targets.toArray().map { Int($0) } }
}

/// A collection of (input, target) examples, addressed by index `0..<count`.
///
/// Conform by giving `count` and `example(at:)`; `batch(_:)` then stacks
/// examples one by one. Override `batch(_:)` when you can gather faster
/// (as `TensorDataset` does).
public protocol Dataset {
    /// How many examples there are.
    var count: Int { get }
    /// The example at `index` (in `0..<count`).
    func example(at index: Int) -> (input: Tensor, target: Tensor)
    /// The examples at `indices`, stacked along a new leading axis.
    func batch(_ indices: [Int]) -> Batch
}

extension Dataset {
    /// The readable default: fetch each example, then stack inputs and targets.
    public func batch(_ indices: [Int]) -> Batch {
        require(!indices.isEmpty, "batch: needs at least one index")
        let examples = indices.map { example(at: $0) }
        return Batch(inputs: .stacked(examples.map(\.input)), targets: .stacked(examples.map(\.target)))
    }
}

/// A dataset held in two tensors: example `i` is row `i` of `inputs` and of `targets`.
public struct TensorDataset: Dataset {
    /// All inputs, one example per row of axis 0.
    public let inputs: Tensor
    /// All targets, one per row of axis 0.
    public let targets: Tensor

    /// Pairs the rows of `inputs` with the rows of `targets`; both must have
    /// the same size along axis 0.
    public init(inputs: Tensor, targets: Tensor) {
        require(inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
                "TensorDataset: inputs \(inputs.shape) and targets \(targets.shape) must have the same first axis")
        self.inputs = inputs
        self.targets = targets
    }

    /// The number of rows.
    public var count: Int { inputs.shape[0] }

    /// Row `index` of the inputs and of the targets (views, no copy).
    public func example(at index: Int) -> (input: Tensor, target: Tensor) {
        (inputs.selected(axis: 0, index: index), targets.selected(axis: 0, index: index))
    }

    /// Fast path: copies the chosen rows straight out of each tensor's storage
    /// with `gatherRows`, instead of stacking per-example views.
    public func batch(_ indices: [Int]) -> Batch {
        Batch(inputs: inputs.gatherRows(indices), targets: targets.gatherRows(indices))
    }
}

/// A random ordering of `0..<n`, by the Fisher–Yates shuffle (lesson 10).
///
/// Walk from the back; swap each position with a uniformly chosen position at
/// or before it. Every one of the n! orders comes out equally likely, in O(n).
public func randomPermutation(_ n: Int, using generator: inout SeededGenerator) -> [Int] {
    // BEGIN EXERCISE 10.1 — a seeded Fisher–Yates shuffle (Lessons/10-data-training.md)
    var order = Array(0..<n)
    var i = n - 1
    while i > 0 {
        let j = Int(generator.next(upperBound: UInt64(i + 1)))  // 0 ≤ j ≤ i
        order.swapAt(i, j)
        i -= 1
    }
    return order
    // END EXERCISE 10.1
}

/// The positions of each batch in an epoch's order of `count` examples:
/// consecutive runs of `batchSize`, the last one shorter unless `dropLast`
/// drops it. `batchRanges(count: 10, batchSize: 4, dropLast: false)` is
/// `[0..<4, 4..<8, 8..<10]`; with `dropLast: true`, `[0..<4, 4..<8]`.
public func batchRanges(count: Int, batchSize: Int, dropLast: Bool) -> [Range<Int>] {
    require(batchSize > 0, "batchRanges: batchSize must be positive, got \(batchSize)")
    // BEGIN EXERCISE 10.2 — cut an epoch into batches (Lessons/10-data-training.md)
    var ranges: [Range<Int>] = []
    var start = 0
    while start < count {
        let end = Swift.min(start + batchSize, count)
        if dropLast && end - start < batchSize { break }
        ranges.append(start..<end)
        start = end
    }
    return ranges
    // END EXERCISE 10.2
}

/// Iterates over a dataset in mini-batches, optionally shuffled (lesson 10).
///
///     let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 42)
///     for epoch in 0..<5 {
///         for batch in loader { … batch.inputs … batch.labels … }
///     }
///
/// Each `for` loop is one epoch. With `shuffle`, epoch `e` visits the examples
/// in the order `randomPermutation` draws from `SeededGenerator(seed: seed &+ e)`:
/// a new order every epoch, the same orders on every run.
public final class DataLoader: Sequence {
    /// The examples being served.
    public let dataset: any Dataset
    /// How many examples per batch (the last one may be smaller, see `dropLast`).
    public let batchSize: Int
    /// Whether each epoch visits the examples in a fresh random order.
    public let shuffle: Bool
    /// Whether to skip a final batch smaller than `batchSize`.
    public let dropLast: Bool
    /// The seed the per-epoch orders are drawn from.
    public let seed: UInt64
    /// How many epochs (iterations over the loader) have started.
    public private(set) var epoch = 0
    /// Random crops and flips of each batch's inputs, drawn anew every epoch
    /// (from the seed, the epoch and the batch: the same on every run); nil for none.
    public let augmentation: ImageAugmentation?

    /// A loader over `dataset`. Without a `seed`, one is drawn from the
    /// generator in effect, so `manualSeed(_:)` or `withSeed(_:_:)` still makes
    /// the run repeatable.
    public init(_ dataset: any Dataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
                seed: UInt64? = nil, augmentation: ImageAugmentation? = nil) {
        require(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed ?? withRandomGenerator { $0.next() }
        self.augmentation = augmentation
    }

    /// The number of batches in one epoch.
    public var count: Int {
        batchRanges(count: dataset.count, batchSize: batchSize, dropLast: dropLast).count
    }

    /// Starts the next epoch: fixes its order, then serves it batch by batch.
    public func makeIterator() -> Iterator {
        let order = shuffle ? epochOrder(epoch) : Array(0..<dataset.count)
        epoch += 1
        return Iterator(dataset: dataset, order: order,
                        ranges: batchRanges(count: order.count, batchSize: batchSize, dropLast: dropLast),
                        augmentation: augmentation, augmentationSeed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The shuffled order of epoch `e`, the same on every run.
    private func epochOrder(_ e: Int) -> [Int] {
        var generator = SeededGenerator(seed: seed &+ UInt64(e))
        return randomPermutation(dataset.count, using: &generator)
    }

    /// Serves one epoch: the examples at each of `ranges` of a fixed order.
    public struct Iterator: IteratorProtocol {
        let dataset: any Dataset
        let order: [Int]
        let ranges: [Range<Int>]
        var augmentation: ImageAugmentation? = nil
        var augmentationSeed: UInt64 = 0
        var position = 0

        /// The next batch, or `nil` when the epoch is over.
        public mutating func next() -> Batch? {
            guard position < ranges.count else { return nil }
            defer { position += 1 }
            let batch = dataset.batch(Array(order[ranges[position]]))
            guard let augmentation else { return batch }
            var generator = SeededGenerator(seed: augmentationSeed &+ UInt64(position))
            return Batch(inputs: augmentation.apply(batch.inputs, using: &generator), targets: batch.targets)
        }
    }
}
