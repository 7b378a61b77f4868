import Foundation
import Kindling
import Testing

// Hidden tests of lesson 10 (data and training). The grader maps each test to
// its exercise by the suite name `Exercise_10_N`; each suite uses only its own
// exercise and earlier ones. They probe what the visible tests do not: the
// exact Fisher–Yates order and its uniformity over every order of four,
// every small (count, batchSize, dropLast), big-endian sizes above 255, each
// kind of broken header in the order the lesson gives, small IDX files written
// by the test, a training loop compared step by step with one written here,
// and the real Fashion-MNIST test split when the Debian package is installed.

// MARK: - Helpers

/// The bytes of an IDX file: magic 00 00, type, rank, big-endian sizes, then `data`.
private func idx(shape: [Int], data: [UInt8] = [], dtype: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, dtype, UInt8(shape.count)]
    for n in shape {
        bytes += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    }
    return bytes + data
}

/// What `parseIDXHeader` makes of `bytes`: the shape, or the error's reason.
private func header(_ bytes: [UInt8], path: String = "test.idx") -> Result<[Int], DataError>? {
    do {
        return .success(try parseIDXHeader(bytes, path: path))
    } catch let error as DataError {
        return .failure(error)
    } catch {
        Issue.record("parseIDXHeader must throw a DataError, it threw \(type(of: error)): \(error)")
        return nil
    }
}

/// Expects `bytes` to be rejected with a reason containing `words`, naming `path`.
private func expectRejected(_ bytes: [UInt8], _ words: String, because why: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    switch header(bytes, path: "files/x-idx1-ubyte") {
    case .success(let shape)?:
        Issue.record("\(why): the header \(bytes.prefix(12).map { String($0) }) should be rejected with '\(words)', but it gave the shape \(shape)",
                     sourceLocation: sourceLocation)
    case .failure(let error)?:
        #expect(error.reason.contains(words), "\(why): expected a reason containing '\(words)', got '\(error.reason)'",
                sourceLocation: sourceLocation)
        #expect(error.path == "files/x-idx1-ubyte", "the error should name the file it is about: path \(error.path)",
                sourceLocation: sourceLocation)
    case nil: break
    }
}

/// A fresh temporary directory, removed by the caller.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hidden10-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Random points in four clusters, labelled by cluster.
private func clusters(_ n: Int, seed: UInt64) -> TensorDataset {
    var g = SeededGenerator(seed: seed)
    let centres: [(Float, Float)] = [(1.5, 1.5), (-1.5, 1.5), (-1.5, -1.5), (1.5, -1.5)]
    var points: [Float] = [], labels: [Float] = []
    for _ in 0..<n {
        let c = Int(g.next(upperBound: UInt64(4)))
        points += [centres[c].0 + 0.6 * g.nextNormal(), centres[c].1 + 0.6 * g.nextNormal()]
        labels.append(Float(c))
    }
    return TensorDataset(inputs: Tensor(points, shape: [n, 2]), targets: Tensor(labels))
}

/// A module that records, for each call, its mode, the grad mode and the batch size.
private final class Recorder: Module {
    let inner: Module
    var calls: [(training: Bool, recording: Bool, rows: Int)] = []
    init(_ inner: Module) {
        self.inner = inner
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor {
        calls.append((isTraining, GradMode.isEnabled, x.shape[0]))
        return inner(x)
    }
}

/// Whether the Debian package's (or $KINDLING_FASHION_MNIST's) test split is there.
private let fashionMNISTTestSplitIsInstalled = FashionMNIST.searchPath().contains { directory in
    ["t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"].contains {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0))
    }
}

// MARK: - 10.1 randomPermutation

@Suite struct Exercise_10_1 {
    @Test func exactlyTheLessonsFisherYatesOrder() {
        for (n, seed) in [(10, UInt64(1)), (257, 2), (1000, 3)] {
            var mine = SeededGenerator(seed: seed), theirs = SeededGenerator(seed: seed)
            var expected = Array(0..<n)
            var i = n - 1
            while i > 0 {
                expected.swapAt(i, Int(theirs.next(upperBound: UInt64(i + 1))))
                i -= 1
            }
            let got = randomPermutation(n, using: &mine)
            #expect(got == expected,
                    "n = \(n), seed \(seed): the order differs from the lesson's algorithm (for i from n − 1 down to 1: j = generator.next(upperBound: i + 1), swap i and j); first elements expected \(expected.prefix(8)), got \(got.prefix(8))")
            if got != expected { return }
        }
    }

    @Test func everyOrderOfFourIsEquallyLikely() {
        var g = SeededGenerator(seed: 4)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<12_000 { counts[randomPermutation(4, using: &g), default: 0] += 1 }
        var hint = ""
        if counts.count == 6 { hint = " — only the 6 cyclic orders appear: j must range over 0...i, including i itself (otherwise an element can never stay put)" }
        #expect(counts.count == 24, "all 4! = 24 orders should appear in 12,000 shuffles, got \(counts.count)\(hint)")
        guard counts.count == 24 else { return }
        let (low, high) = (counts.values.min() ?? 0, counts.values.max() ?? 0)
        #expect(low >= 400 && high <= 600,
                "each of the 24 orders should appear about 500 times in 12,000 shuffles; counts range from \(low) to \(high) — a swap with a position drawn from all of 0..<n (not 0...i) makes some orders more likely")
    }

    @Test func everyPositionHoldsEveryValueEquallyOften() {
        var g = SeededGenerator(seed: 5)
        let n = 6
        var counts = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        for _ in 0..<12_000 {
            for (position, value) in randomPermutation(n, using: &g).enumerated() { counts[position][value] += 1 }
        }
        let flat = counts.flatMap { $0 }
        #expect(flat.allSatisfy { (1700...2300).contains($0) },
                "over 12,000 shuffles of 6, each value should land in each position about 2000 times; counts by position: \(counts)")
    }

    @Test func aLongPermutationIsQuick() {
        var g = SeededGenerator(seed: 6)
        let p = randomPermutation(200_000, using: &g)
        var seen = [Bool](repeating: false, count: 200_000)
        for i in p where i >= 0 && i < seen.count { seen[i] = true }
        #expect(p.count == 200_000 && seen.allSatisfy { $0 }, "a permutation of 200,000 must hold each index once")
        #expect(Array(p.prefix(100)) != Array(0..<100), "and be shuffled")
    }
}

// MARK: - 10.2 batchRanges

@Suite struct Exercise_10_2 {
    @Test func everySmallCaseAgainstTheDefinition() {
        for count in 0...40 {
            for batchSize in 1...12 {
                for dropLast in [false, true] {
                    var expected: [Range<Int>] = []
                    var start = 0
                    while start < count {
                        let end = Swift.min(start + batchSize, count)
                        if !dropLast || end - start == batchSize { expected.append(start..<end) }
                        start = end
                    }
                    let got = batchRanges(count: count, batchSize: batchSize, dropLast: dropLast)
                    #expect(got == expected, "batchRanges(count: \(count), batchSize: \(batchSize), dropLast: \(dropLast)): expected \(expected), got \(got)")
                    if got != expected { return }
                }
            }
        }
    }

    @Test func aBatchLargerThanTheData() {
        #expect(batchRanges(count: 5, batchSize: 64, dropLast: false) == [0..<5], "5 examples, batches of 64: one short batch [0..<5]")
        #expect(batchRanges(count: 5, batchSize: 64, dropLast: true).isEmpty, "with dropLast there is no full batch at all")
        #expect(batchRanges(count: 64, batchSize: 64, dropLast: true) == [0..<64], "exactly one full batch is kept with dropLast")
    }

    @Test func batchesOfOne() {
        let got = batchRanges(count: 4, batchSize: 1, dropLast: true)
        #expect(got == [0..<1, 1..<2, 2..<3, 3..<4], "batches of 1 are never short: got \(got)")
    }

    @Test func aShuffledLoaderWithDropLast() {
        let data = TensorDataset(inputs: Tensor.zeros([23, 2]), targets: Tensor((0..<23).map(Float.init)))
        let loader = DataLoader(data, batchSize: 5, shuffle: true, dropLast: true, seed: 11)
        #expect(loader.count == 4, "23 examples in full batches of 5: 4 batches, got \(loader.count)")
        var everyEpochSame = true
        var first: [Int]?
        for epoch in 0..<3 {
            let batches = loader.map(\.labels)
            let all = batches.flatMap { $0 }
            #expect(batches.map(\.count) == [5, 5, 5, 5] && Set(all).count == 20,
                    "epoch \(epoch): 4 batches of 5 distinct examples, got sizes \(batches.map(\.count))")
            if let first, first != all { everyEpochSame = false }
            first = first ?? all
        }
        #expect(!everyEpochSame, "each epoch draws a new order")
    }
}

// MARK: - 10.3 parseIDXHeader

@Suite struct Exercise_10_3 {
    @Test func sizesAreBigEndian() {
        for (shape, what) in [([0x0102_0304], "16909060 = 01 02 03 04"), ([256, 1], "256 = 00 00 01 00"),
                              ([60000, 28, 28], "60000 = 00 00 EA 60"), ([0x7FFF_FFFF], "2147483647 = 7F FF FF FF")] {
            guard case .success(let got)? = header(idx(shape: shape)) else {
                Issue.record("a valid header of shape \(shape) was rejected: \(String(describing: header(idx(shape: shape))))")
                return
            }
            var hint = ""
            if got.count == shape.count, got != shape {
                let swapped = shape.map { n in (0..<4).reduce(0) { $0 << 8 | (n >> (8 * $1) & 0xFF) } }
                if got == swapped { hint = " — the bytes were read least significant first; IDX stores the most significant byte first (big-endian)" }
            }
            #expect(got == shape, "\(what): expected \(shape), got \(got)\(hint)")
        }
    }

    @Test func rankZeroAndTheDataAfterTheHeader() {
        guard case .success(let scalar)? = header([0, 0, 8, 0]) else {
            Issue.record("rank 0 (a single number): the header is just 00 00 08 00 and the shape is []")
            return
        }
        #expect(scalar == [], "rank 0: shape [], got \(scalar)")
        guard case .success(let shape)? = header(idx(shape: [2, 2], data: [9, 9, 9])) else {
            Issue.record("the header [2, 2] followed by 3 data bytes should parse: checking the data is not the header's job")
            return
        }
        #expect(shape == [2, 2], "the header describes shape [2, 2], whatever follows it; got \(shape)")
    }

    @Test func truncatedHeaders() {
        for n in 0..<4 {
            expectRejected(Array([0, 0, 8, 1].prefix(n)), "truncated header", because: "\(n) bytes cannot hold magic, type and rank")
        }
        expectRejected([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0], "truncated header", because: "rank 2 needs 4 + 8 = 12 header bytes, there are 11")
        expectRejected([0, 0, 8, 1], "truncated header", because: "rank 1 needs 8 header bytes, there are 4")
    }

    @Test func badMagic() {
        expectRejected([1, 0, 8, 1, 0, 0, 0, 1], "bad magic", because: "the first byte must be 0")
        expectRejected([0, 7, 8, 1, 0, 0, 0, 1], "bad magic", because: "the second byte must be 0")
        expectRejected([0x1F, 0x8B, 8, 0, 0, 0, 0, 0], "bad magic", because: "a gzip stream (1f 8b) that was not inflated is not IDX")
    }

    @Test func unsupportedElementTypes() {
        for code: UInt8 in [0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF] {
            expectRejected(idx(shape: [1], data: [0], dtype: code), "unsupported element type",
                           because: "type 0x\(String(code, radix: 16)) is not 0x08 (unsigned byte)")
        }
    }

    @Test func checksInTheLessonsOrder() {
        // length ≥ 4 → magic → type → header length
        expectRejected([5, 5, 0x0D, 9], "bad magic", because: "the magic is checked before the type")
        expectRejected([0, 0, 0x0D, 9], "unsupported element type", because: "the type is checked before the header's length")
    }

    @Test func fashionMNISTFromSmallFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pixels = (0..<(3 * 28 * 28)).map { UInt8($0 % 256) }
        try Data(idx(shape: [3, 28, 28], data: pixels)).write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data(idx(shape: [3], data: [9, 0, 4])).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let data = try FashionMNIST.load(.test, searching: [dir.path])
        #expect(data.inputs.shape == [3, 1, 28, 28] && data.targets.toArray() == [9, 0, 4],
                "three 28×28 images labelled 9, 0, 4: got inputs \(data.inputs.shape), labels \(data.targets.toArray())")
        #expect(data.inputs[0, 0, 0, 5] == Float(5) / 255 && data.inputs[1, 0, 0, 0] == Float(784 % 256) / 255,
                "pixels are scaled from 0…255 to 0…1: expected 5/255 and 16/255, got \(data.inputs[0, 0, 0, 5]) and \(data.inputs[1, 0, 0, 0])")
    }

    @Test func aBrokenFileNamesItself() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("weird-idx3-ubyte").path
        try Data([0, 0, 0x0B, 1, 0, 0, 0, 2, 0, 1, 0, 2]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try readIDX(path)
            Issue.record("readIDX of a file of 16-bit integers (type 0x0B) should throw")
        } catch let error as DataError {
            #expect(error.path == path && error.reason.contains("unsupported element type"),
                    "expected '\(path): unsupported element type …', got '\(error)'")
        }
    }

    @Test(.enabled(if: fashionMNISTTestSplitIsInstalled, "Fashion-MNIST is not installed"))
    func theRealTestSplit() throws {
        let test = try FashionMNIST.load(.test)
        #expect(test.inputs.shape == [10_000, 1, 28, 28], "the test split holds 10,000 images of 28×28, got \(test.inputs.shape)")
        let labels = test.targets.sliced(axis: 0, from: 0, to: 10).toArray().map { Int($0) }
        #expect(labels == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7], "the first ten test labels are 9 2 1 1 6 1 4 6 5 7, got \(labels)")
    }
}

// MARK: - 10.4 trainEpoch

@Suite struct Exercise_10_4 {
    /// Two identical small MLPs.
    private static func twins(seed: UInt64) -> (Sequential, Sequential) {
        let a = withSeed(seed) { Sequential(Linear(2, 8), ReLU(), Linear(8, 4)) }
        let b = withSeed(seed) { Sequential(Linear(2, 8), ReLU(), Linear(8, 4)) }
        return (a, b)
    }

    @Test func matchesALoopWrittenByHand() {
        let data = clusters(50, seed: 41)
        let (mine, reference) = Self.twins(seed: 41)
        let myOptimizer = SGD(parameters: mine.parameters(), learningRate: 0.1, momentum: 0.9)
        let referenceOptimizer = SGD(parameters: reference.parameters(), learningRate: 0.1, momentum: 0.9)
        let myLoader = DataLoader(data, batchSize: 8, shuffle: true, seed: 41)
        let referenceLoader = DataLoader(data, batchSize: 8, shuffle: true, seed: 41)
        for epoch in 1...2 {
            let loss = trainEpoch(model: mine, loader: myLoader, optimizer: myOptimizer)
            var total = 0.0
            for batch in referenceLoader {
                referenceOptimizer.zeroGrad()
                let l = crossEntropy(reference(batch.inputs), batch.labels)
                l.backward()
                referenceOptimizer.step()
                total += Double(l.item()) * Double(batch.labels.count)
            }
            #expect(Swift.abs(loss - total / 50) < 1e-5, "epoch \(epoch): the mean loss should be \(total / 50), got \(loss)")
            for ((name, p), q) in zip(mine.namedParameters(), reference.parameters()) {
                let (a, b) = (p.toArray(), q.toArray())
                let worst = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-5,
                        "epoch \(epoch): \(name) differs from the hand-written loop by up to \(worst) — each batch: optimizer.zeroGrad(), forward, crossEntropy, backward(), optimizer.step(); gradients left from the last batch make every step too big")
                if worst >= 1e-5 { return }
            }
        }
    }

    @Test func trainsInTrainingModeWithAGraph() {
        let recorder = Recorder(Linear(2, 4))
        recorder.eval()
        let data = clusters(20, seed: 42)
        _ = trainEpoch(model: recorder, loader: DataLoader(data, batchSize: 6),
                       optimizer: SGD(parameters: recorder.parameters(), learningRate: 0.01))
        #expect(recorder.calls.map(\.rows) == [6, 6, 6, 2], "one forward call per batch (6, 6, 6, 2), got \(recorder.calls.map(\.rows))")
        #expect(recorder.calls.allSatisfy { $0.training }, "trainEpoch must put the model in training mode (model.train()) before the first batch")
        #expect(recorder.calls.allSatisfy { $0.recording }, "training needs the graph: do not wrap the forward pass in noGrad")
    }

    @Test func onBatchGetsTheRunningMean() {
        let model = withSeed(43) { Linear(2, 4) }
        let data = clusters(10, seed: 43)
        // Learning rate 0: the model never changes, so each batch's loss can be computed here.
        let batchLosses = [0..<4, 4..<8, 8..<10].map { r -> (Double, Int) in
            let b = data.batch(Array(r))
            return (Double(crossEntropy(model(b.inputs), b.labels).item()), r.count)
        }
        var expected: [Double] = []
        var (sum, n) = (0.0, 0)
        for (loss, size) in batchLosses {
            sum += loss * Double(size)
            n += size
            expected.append(sum / Double(n))
        }
        var calls: [(Int, Double)] = []
        let loss = trainEpoch(model: model, loader: DataLoader(data, batchSize: 4),
                              optimizer: SGD(parameters: model.parameters(), learningRate: 0)) { calls.append(($0, $1)) }
        #expect(calls.map(\.0) == [1, 2, 3], "onBatch's first argument counts the batches done: 1, 2, 3; got \(calls.map(\.0))")
        let ok = calls.count == 3 && zip(calls.map(\.1), expected).allSatisfy { Swift.abs($0 - $1) < 1e-5 }
        #expect(ok, "onBatch's second argument is the mean loss per example so far: expected \(expected), got \(calls.map(\.1))")
        #expect(Swift.abs(loss - expected[2]) < 1e-5, "the epoch's mean loss: expected \(expected[2]), got \(loss)")
    }

    @Test func anEpochWithoutBatches() {
        let model = Linear(2, 4)
        var calls = 0
        let loss = trainEpoch(model: model, loader: DataLoader(clusters(3, seed: 44), batchSize: 4, dropLast: true),
                              optimizer: SGD(parameters: model.parameters(), learningRate: 0.1)) { _, _ in calls += 1 }
        #expect(loss == 0 && calls == 0, "no batch at all (3 examples, dropLast with batches of 4): loss 0 and no onBatch call; got loss \(loss), \(calls) calls — 0/0 is NaN")
    }

    @Test func fourClustersAreLearned() {
        let data = clusters(400, seed: 45)
        let model = withSeed(45) { Sequential(Linear(2, 16), ReLU(), Linear(16, 4)) }
        let optimizer = Adam(parameters: model.parameters(), learningRate: 0.02)
        let loader = DataLoader(data, batchSize: 32, shuffle: true, seed: 45)
        let losses = (0..<8).map { _ in trainEpoch(model: model, loader: loader, optimizer: optimizer) }
        #expect(losses.last! < 0.35 && losses.last! < losses.first!, "8 epochs on four clusters should bring the loss under 0.35, got \(losses)")
    }
}

// MARK: - 10.5 accuracy

@Suite struct Exercise_10_5 {
    @Test func aBatchSizeThatDoesNotDivideTheData() {
        let data = clusters(7, seed: 51)
        let recorder = Recorder(Linear(2, 4))
        let predicted = recorder.inner(data.inputs).argmax(axis: 1).toArray().map { Int($0) }
        let labels = data.batch(Array(0..<7)).labels
        let expected = Double(zip(predicted, labels).filter { $0 == $1 }.count) / 7
        let acc = accuracy(of: recorder, on: data, batchSize: 3)
        #expect(Swift.abs(acc - expected) < 1e-12, "7 examples in batches of 3, 3, 1: expected \(expected), got \(acc) — count every example, including the short last batch, and divide by the dataset's size")
        #expect(recorder.calls.map(\.rows) == [3, 3, 1], "batches of 3, 3, 1 expected, got \(recorder.calls.map(\.rows))")
    }

    @Test func evalModeNoGraphThenTrainingModeAgain() {
        let recorder = Recorder(Sequential(Linear(2, 5), ReLU(), Linear(5, 4)))
        _ = accuracy(of: recorder, on: clusters(30, seed: 52))
        #expect(recorder.calls.count == 1, "30 examples with the default batch size 1000: one call, got \(recorder.calls.count)")
        #expect(recorder.calls.allSatisfy { !$0.training && !$0.recording }, "measure in eval mode and inside noGrad: got \(recorder.calls.map { "training \($0.training), recording \($0.recording)" })")
        #expect(recorder.isTraining, "the model must be back in training mode afterwards")
        if case let inner as Sequential = recorder.inner {
            #expect(inner.layers.allSatisfy { $0.isTraining }, "eval() and train() reach every submodule")
        }
    }

    @Test func perfectAndHopelessModels() {
        // Scores that copy a one-hot of the label (perfect) or of the next class (always wrong).
        let labels: [Float] = [0, 1, 2, 3, 3, 2, 1, 0, 2]
        let inputs = Tensor(labels.flatMap { l in (0..<4).map { Float($0) == l ? 1 : 0 } }, shape: [9, 4])
        let data = TensorDataset(inputs: inputs, targets: Tensor(labels))
        let identity = Linear(4, 4, bias: false)
        let shift = Linear(4, 4, bias: false)
        noGrad {
            identity.weight.withUnsafeMutableElements { w in for i in 0..<16 { w[i] = i % 5 == 0 ? 1 : 0 } }
            // output j = input (j − 1 mod 4): class c scores highest at c + 1
            shift.weight.withUnsafeMutableElements { w in for j in 0..<4 { for i in 0..<4 { w[j * 4 + i] = i == (j + 3) % 4 ? 1 : 0 } } }
        }
        let perfect = accuracy(of: identity, on: data, batchSize: 4)
        let hopeless = accuracy(of: shift, on: data, batchSize: 4)
        #expect(perfect == 1, "a model that scores the label highest is always right: accuracy 1, got \(perfect)")
        #expect(hopeless == 0, "a model that always scores another class highest: accuracy 0, got \(hopeless) — compare the argmax of each row with its label")
    }

    @Test(.enabled(if: fashionMNISTTestSplitIsInstalled, "Fashion-MNIST is not installed"))
    func anUntrainedMLPIsNearChanceOnFashionMNIST() throws {
        let test = try FashionMNIST.load(.test)
        let model = withSeed(53) { Sequential(Flatten(), Linear(784, 32), ReLU(), Linear(32, 10)) }
        let acc = accuracy(of: model, on: test)
        #expect(acc > 0.01 && acc < 0.3, "an untrained 10-class model should be near chance (10%), got \(acc)")
    }
}
