import Foundation
import Testing
import Kindling

// Lesson 10 — data and training (Lessons/10-data-training.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson10           all of lesson 10
//     swift test --filter Exercise_10_3      one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 10.x is not done yet" — that is the
// next one to do. Each exercise's tests use only that exercise and earlier ones
// (and the finished lessons before this one). The last suite trains an MLP on
// Fashion-MNIST when the dataset is installed.

/// The bytes of an IDX file: magic 00 00, type, rank, big-endian sizes, then `data`.
private func idxBytes(shape: [Int], data: [UInt8] = [], dtype: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, dtype, UInt8(shape.count)]
    for n in shape {
        bytes += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    }
    return bytes + data
}

/// The `DataError` that `body` throws, or `nil` (with a recorded issue) if it throws none.
private func dataError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DataError? {
    do {
        try body()
        Issue.record("expected a DataError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DataError {
        return error
    } catch {
        Issue.record("expected a DataError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Three clouds of 2-D points, 20 each, labelled 0, 1, 2 — easy to separate.
private func clouds(seed: UInt64 = 10) -> TensorDataset {
    var g = SeededGenerator(seed: seed)
    let centres: [(Float, Float)] = [(2, 0), (-1, 1.7), (-1, -1.7)]
    var points: [Float] = [], labels: [Float] = []
    for i in 0..<60 {
        let (cx, cy) = centres[i % 3]
        points += [cx + 0.3 * g.nextNormal(), cy + 0.3 * g.nextNormal()]
        labels.append(Float(i % 3))
    }
    return TensorDataset(inputs: Tensor(points, shape: [60, 2]), targets: Tensor(labels))
}

/// A module that remembers the mode and grad mode of each call.
private final class Spy: Module {
    let inner: Linear
    var calls: [(training: Bool, recording: Bool)] = []
    init(_ inner: Linear) {
        self.inner = inner
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor {
        calls.append((isTraining, GradMode.isEnabled))
        return inner(x)
    }
}

/// Whether a directory `FashionMNIST.load` searches holds the test labels.
private let fashionMNISTIsInstalled = FashionMNIST.searchPath().contains { directory in
    ["t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"].contains {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0))
    }
}

@Suite("Lesson10", .serialized) struct Lesson10 {

    // MARK: 10.1 — seeded Fisher–Yates

    @Suite("10.1 randomPermutation") struct Exercise_10_1 {
        @Test func isAPermutation() {
            var g = SeededGenerator(seed: 1)
            let p = randomPermutation(1000, using: &g)
            #expect(p.count == 1000 && p.sorted() == Array(0..<1000), "every index 0..<1000 exactly once")
            #expect(p != Array(0..<1000), "and shuffled, not in order")
            #expect(randomPermutation(0, using: &g).isEmpty, "n = 0: an empty order")
            #expect(randomPermutation(1, using: &g) == [0], "n = 1: [0]")
        }

        @Test func theSameSeedGivesTheSameOrder() {
            var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
            let first = randomPermutation(50, using: &a)
            #expect(first == randomPermutation(50, using: &b), "the same seed must give the same order")
            #expect(first != randomPermutation(50, using: &c), "another seed, another order")
        }

        @Test func everyOrderOfThreeIsEquallyLikely() {
            var g = SeededGenerator(seed: 3)
            var counts: [[Int]: Int] = [:]
            for _ in 0..<6000 { counts[randomPermutation(3, using: &g), default: 0] += 1 }
            #expect(counts.count == 6, "all 3! = 6 orders of [0, 1, 2] should appear, got \(counts.count): \(counts)\(counts.count == 2 ? " — drawing j from 0..<i never picks i (that is Sattolo's algorithm: only cycles come out); draw from 0...i" : "")")
            #expect(counts.values.allSatisfy { (850...1150).contains($0) },
                    "each order should appear about 1000 times in 6000 shuffles, got \(counts) — pick j in 0...i (not 0..<n, not 0..<i)\(counts.count == 6 ? "; drawing j from all of 0..<n at every step makes nⁿ equally likely ways onto n! orders, so some come up more often" : "")")
        }
    }

    // MARK: 10.2 — batches

    @Suite("10.2 batchRanges") struct Exercise_10_2 {
        @Test func consecutiveRunsWithAShortLastOne() {
            let ranges = batchRanges(count: 10, batchSize: 4, dropLast: false)
            #expect(ranges == [0..<4, 4..<8, 8..<10], "10 examples in batches of 4: [0..<4, 4..<8, 8..<10], got \(ranges)\(ranges.last?.upperBound ?? 0 > 10 ? " — the last range stops at count: end = min(start + batchSize, count)" : "")")
            let exact = batchRanges(count: 8, batchSize: 4, dropLast: false)
            #expect(exact == [0..<4, 4..<8], "8 in batches of 4: no empty third batch, got \(exact)")
        }

        @Test func dropLastSkipsAShortBatch() {
            let ranges = batchRanges(count: 10, batchSize: 4, dropLast: true)
            #expect(ranges == [0..<4, 4..<8], "dropLast drops the short batch 8..<10, got \(ranges)")
            #expect(batchRanges(count: 3, batchSize: 4, dropLast: true).isEmpty, "3 examples cannot fill a batch of 4")
            #expect(batchRanges(count: 0, batchSize: 4, dropLast: false).isEmpty, "no examples, no batches")
        }

        @Test func theLoaderServesThem() {
            let data = TensorDataset(inputs: Tensor.zeros([7, 1]), targets: Tensor((0..<7).map(Float.init)))
            let loader = DataLoader(data, batchSize: 3)
            #expect(loader.count == 3, "7 examples in batches of 3 make 3 batches (the last has 1), got \(loader.count)")
            #expect(loader.map(\.labels) == [[0, 1, 2], [3, 4, 5], [6]], "got \(loader.map(\.labels))")
            let shuffled = DataLoader(data, batchSize: 3, shuffle: true, seed: 1)
            let labels = shuffled.map(\.labels)
            #expect(labels.map(\.count) == [3, 3, 1] && labels.flatMap { $0 }.sorted() == Array(0..<7),
                    "a shuffled epoch visits each example once, got \(labels)")
        }
    }

    // MARK: 10.3 — the IDX header

    @Suite("10.3 parseIDXHeader") struct Exercise_10_3 {
        @Test func readsTheShape() throws {
            let shape = try parseIDXHeader(idxBytes(shape: [2, 28, 28]), path: "images")
            #expect(shape == [2, 28, 28], "rank 3, sizes 2, 28, 28: got \(shape)")
            let labels = try parseIDXHeader(idxBytes(shape: [60000]), path: "labels")
            #expect(labels == [60000], "60000 is the bytes 00 00 EA 60, most significant first; got \(labels)\(labels == [1_625_948_160] ? " — the bytes were read least significant first" : "")")
        }

        @Test func rejectsWhatIsNotIDX() {
            let magic = dataError { _ = try parseIDXHeader([0x1F, 0x8B, 8, 1, 0, 0, 0, 1], path: "photo.gz") }
            #expect(magic?.path == "photo.gz" && magic?.reason.hasPrefix("bad magic") == true,
                    "a file not starting with 00 00 is not IDX: expected a reason that starts with the words 'bad magic', got \(String(describing: magic))")
            let both = dataError { _ = try parseIDXHeader([1, 0, 0x0D, 1, 0, 0, 0, 1], path: "odd") }
            #expect(both?.reason.hasPrefix("bad magic") == true,
                    "bytes 01 00 0D: the magic is wrong and so is the type; the checks run in the lesson's order, magic first, so expected 'bad magic', got \(String(describing: both))")
            let type = dataError { _ = try parseIDXHeader(idxBytes(shape: [1], dtype: 0x0D), path: "floats") }
            #expect(type?.reason.contains("unsupported element type") == true,
                    "type 0x0D (floats) is not supported: got \(String(describing: type))")
            let short = dataError { _ = try parseIDXHeader([0, 0, 8, 3, 0, 0, 0, 2], path: "cut") }
            #expect(short?.reason.contains("truncated header") == true,
                    "rank 3 needs 16 header bytes, there are 8: got \(String(describing: short))")
        }

        @Test func readIDXUsesIt() throws {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("lesson10-\(UUID().uuidString)-idx1-ubyte").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(idxBytes(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])).write(to: URL(fileURLWithPath: path))
            let array = try readIDX(path)
            #expect(array.shape == [2, 3] && array.bytes == [1, 2, 3, 4, 5, 6], "got shape \(array.shape), bytes \(array.bytes)")
        }
    }

    // MARK: 10.4 — the training loop

    @Suite("10.4 trainEpoch") struct Exercise_10_4 {
        @Test func returnsTheMeanLossPerExample() {
            // With learning rate 0 nothing changes, so the epoch's mean loss is
            // the loss of the whole dataset — even with a short last batch.
            let (data, model) = withSeed(1) { (clouds(), Linear(2, 3)) }
            let expected = crossEntropy(model(data.inputs), data.batch(Array(0..<60)).labels).item()
            let loader = DataLoader(data, batchSize: 7)
            var calls: [(Int, Double)] = []
            let loss = trainEpoch(model: model, loader: loader, optimizer: SGD(parameters: model.parameters(), learningRate: 0)) {
                calls.append(($0, $1))
            }
            #expect(Swift.abs(loss - Double(expected)) < 1e-5,
                    "mean over the 60 examples: \(expected), got \(loss) — weight each batch's loss by its size (the last batch has 4)")
            #expect(calls.map(\.0) == Array(1...9), "onBatch gets 1, 2, …, 9 for the 9 batches, got \(calls.map(\.0))")
            #expect(Swift.abs((calls.last?.1 ?? .nan) - loss) < 1e-9, "the last onBatch call carries the epoch's mean loss")
        }

        @Test func parametersMatchAHandWrittenLoop() {
            let data = clouds()
            func fresh() -> Linear { withSeed(3) { Linear(2, 3) } }
            /// One epoch by hand, in batches of 20, with or without zeroing the gradients.
            func byHand(zeroing: Bool) -> [Float] {
                let model = fresh()
                let optimizer = SGD(parameters: model.parameters(), learningRate: 0.5)
                for start in stride(from: 0, to: 60, by: 20) {
                    let batch = data.batch(Array(start..<(start + 20)))
                    if zeroing { optimizer.zeroGrad() }
                    crossEntropy(model(batch.inputs), batch.labels).backward()
                    optimizer.step()
                }
                return model.weight.toArray()
            }
            let model = fresh()
            trainEpoch(model: model, loader: DataLoader(data, batchSize: 20), optimizer: SGD(parameters: model.parameters(), learningRate: 0.5))
            let got = model.weight.toArray(), expected = byHand(zeroing: true)
            let same = zip(got, expected).allSatisfy { Swift.abs($0 - $1) < 1e-5 }
            let unzeroed = zip(got, byHand(zeroing: false)).allSatisfy { Swift.abs($0 - $1) < 1e-5 }
            #expect(same, "after one epoch the weights should be \(expected), got \(got)\(unzeroed ? " — each step carried the gradients of all earlier batches: call optimizer.zeroGrad() before each batch's backward()" : "")")
        }

        @Test func trainsInTrainingMode() {
            let spy = Spy(Linear(2, 3))
            spy.eval()
            trainEpoch(model: spy, loader: DataLoader(clouds(), batchSize: 30), optimizer: SGD(parameters: spy.parameters(), learningRate: 0.1))
            #expect(!spy.calls.isEmpty && spy.calls.allSatisfy { $0.training },
                    "the model was in eval mode from the last measurement: trainEpoch must call model.train() first")
        }

        @Test func theLossFalls() {
            let (data, model) = withSeed(2) { (clouds(), Sequential(Linear(2, 16), ReLU(), Linear(16, 3))) }
            let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)
            let loader = DataLoader(data, batchSize: 10, shuffle: true, seed: 2)
            let losses = (0..<5).map { _ in trainEpoch(model: model, loader: loader, optimizer: optimizer) }
            #expect(losses.last! < 0.2 && losses.last! < losses.first!,
                    "5 epochs on three clouds should bring the loss under 0.2, got \(losses)")
        }
    }

    // MARK: 10.5 — accuracy

    @Suite("10.5 accuracy") struct Exercise_10_5 {
        @Test func countsTheHighestScores() {
            // Scores = x itself: the predicted class is the larger coordinate.
            let model = Linear(2, 2, bias: false)
            model.weight.storage.base.update(from: [1, 0, 0, 1], count: 4)
            let data = TensorDataset(inputs: Tensor([1, 0, 0, 1, 2, 3, 5, 4, 0, 1], shape: [5, 2]),
                                     targets: Tensor([0, 1, 1, 1, 0]))
            let acc = accuracy(of: model, on: data, batchSize: 2)
            #expect(Swift.abs(acc - 0.6) < 1e-12, "predictions 0, 1, 1, 0, 1 against labels 0, 1, 1, 1, 0: 3 of 5, got \(acc)")
        }

        @Test func evaluatesInEvalModeWithoutAGraph() {
            let spy = Spy(Linear(2, 3))
            _ = accuracy(of: spy, on: clouds(), batchSize: 25)
            #expect(spy.calls.count == 3, "60 examples in batches of 25: 3 calls, got \(spy.calls.count)")
            #expect(spy.calls.allSatisfy { !$0.training }, "the model must be in eval mode (model.eval()) while it is measured")
            #expect(spy.calls.allSatisfy { !$0.recording }, "no graph is needed: run the model inside noGrad { … }")
            #expect(spy.isTraining, "afterwards the model must be back in training mode (defer { model.train() })")
        }

        @Test func measuringLeavesTheRandomNumbersAlone() {
            let model = Linear(2, 3), data = clouds()
            let after = withSeed(5) { () -> [Float] in
                _ = accuracy(of: model, on: data)
                return Tensor.rand([3]).toArray()
            }
            let without = withSeed(5) { Tensor.rand([3]).toArray() }
            #expect(after == without,
                    "measuring accuracy must not change the random numbers that come after it: got \(after), expected \(without) — a loader without a seed draws one; pass seed: 0")
        }
    }

    // MARK: Milestone — Fashion-MNIST

    // Your framework, end to end, on real pictures: an MLP trained for one
    // epoch on the 60,000 training images. (`kindling train` runs 10 epochs in
    // release mode and passes 88%.)
    @Suite("Milestone: Fashion-MNIST", .enabled(if: fashionMNISTIsInstalled, "Fashion-MNIST is not installed"))
    struct Milestone {
        @Test func anMLPLearnsInOneEpoch() throws {
            let train = try FashionMNIST.load(.train)
            let test = try FashionMNIST.load(.test)
            let model = withSeed(0) { Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10)) }
            let optimizer = SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9)
            let loss = trainEpoch(model: model, loader: DataLoader(train, batchSize: 64, shuffle: true, seed: 0), optimizer: optimizer)
            let acc = accuracy(of: model, on: test)
            print("Fashion-MNIST, one epoch: train loss \(loss), test accuracy \(acc)")
            #expect(acc > 0.8, "after one epoch the test accuracy should pass 80%, got \(acc)")
        }
    }
}
