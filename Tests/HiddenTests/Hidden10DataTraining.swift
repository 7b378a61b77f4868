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
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one. Models whose outputs are observed get weights
// drawn by the test (`drawParameters`): how an initializer draws is not fixed
// by the lessons, the shuffle is.

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
    observe("\(why): what parseIDXHeader made of \(bytes.prefix(12).map { String($0) })", outcome(bytes))
}

/// Which of the lesson's reasons `reason` gives, or "another reason".
private func reasonKind(_ reason: String) -> String {
    ["truncated header", "bad magic", "unsupported element type"].first { reason.contains($0) } ?? "another reason"
}

/// What `parseIDXHeader` makes of `bytes` (given the path "files/x-idx1-ubyte"), in words: the shape, or
/// which of the lesson's reasons it rejects them with and whether the error names that path.
private func outcome(_ bytes: [UInt8]) -> String {
    switch header(bytes, path: "files/x-idx1-ubyte") {
    case .success(let shape)?: return "the shape \(shape)"
    case .failure(let error)?: return "rejected: \(reasonKind(error.reason))\(error.path == "files/x-idx1-ubyte" ? "" : ", naming another path")"
    case nil: return "another error"
    }
}

/// The kinds of IDX header `drawnHeader` makes.
private enum HeaderKind { case valid, truncated, badMagic, badType, anyProblem }

/// A header of `kind` drawn from `g`, and what the lesson's checks, in their order, make of it.
private func drawnHeader(_ kind: HeaderKind, _ g: inout SeededGenerator) -> (bytes: [UInt8], expected: String) {
    let rank = Int.random(in: 0...4, using: &g)
    let shape = (0..<rank).map { _ in Int.random(in: 0...0x7FFF_FFFF, using: &g) >> Int.random(in: 0...30, using: &g) }
    var bytes = idx(shape: shape, data: (0..<Int.random(in: 0...6, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
    let badType = ([0x00, 0x09, 0x0B, 0x0C, 0x0D, 0x0E] + [UInt8.random(in: 0x0F...0xFF, using: &g)]).randomElement(using: &g)!
    let badMagic = [(UInt8.random(in: 1...255, using: &g), UInt8(0)), (UInt8(0), UInt8.random(in: 1...255, using: &g)),
                    (UInt8(0x1F), UInt8(0x8B)), (UInt8.random(in: 1...255, using: &g), UInt8.random(in: 1...255, using: &g))].randomElement(using: &g)!
    let cut = Int.random(in: 0..<(4 + 4 * rank), using: &g)
    switch kind {
    case .valid: return (bytes, "the shape \(shape)")
    case .truncated: return (Array(bytes.prefix(cut)), "rejected: truncated header")
    case .badMagic:
        (bytes[0], bytes[1]) = badMagic
        if Bool.random(using: &g) { bytes[2] = badType }
        return (Array(bytes.prefix(Int.random(in: 4...bytes.count, using: &g))), "rejected: bad magic")
    case .badType:
        bytes[2] = badType
        return (Array(bytes.prefix(Int.random(in: 4...bytes.count, using: &g))), "rejected: unsupported element type")
    case .anyProblem:
        // Several problems at once: the first check in the lesson's order decides.
        let (magic, type, short) = (Bool.random(using: &g), Bool.random(using: &g), Bool.random(using: &g))
        if magic { (bytes[0], bytes[1]) = badMagic }
        if type { bytes[2] = badType }
        if short { bytes = Array(bytes.prefix(Swift.max(cut, rank == 0 ? 0 : 4))) }
        if bytes.count < 4 { return (bytes, "rejected: truncated header") }
        if magic { return (bytes, "rejected: bad magic") }
        if type { return (bytes, "rejected: unsupported element type") }
        if short && rank > 0 { return (bytes, "rejected: truncated header") }
        return (bytes, "the shape \(shape)")
    }
}

/// Checks what `parseIDXHeader` makes of `count` headers drawn from the grading seed — of `kind`, and for a
/// broken kind as many valid ones between them (the other side of the same check) — and observes it.
private func checkDrawnHeaders(_ what: String, _ kind: HeaderKind, seed: UInt64, count: Int = 8,
                               sourceLocation: SourceLocation = #_sourceLocation) {
    var g = SeededGenerator(seed: graded(seed))
    var outcomes: [String] = []
    for k in 0..<count {
        let mixed = kind == .truncated || kind == .badMagic || kind == .badType
        let (bytes, expected) = drawnHeader(mixed && k % 2 == 0 ? .valid : kind, &g)
        let got = outcome(bytes)
        #expect(got == expected,
                "\(what): the header \(bytes.prefix(24).map { String($0) }) should give \(expected), got \(got) — checks in the lesson's order: at least 4 bytes, magic 00 00, type 0x08, 4 + 4·rank bytes, then big-endian sizes; the error names the file",
                sourceLocation: sourceLocation)
        outcomes.append(got)
    }
    observe("\(what): what parseIDXHeader made of \(count) drawn headers", outcomes.joined(separator: "; "))
}

/// Gives every parameter of `model` values drawn from `seed`, uniform in ±1/√fanIn like PyTorch's
/// default: the same values for the same seed, whatever an initializer draws.
private func drawParameters(_ model: Module, seed: UInt64) {
    var g = SeededGenerator(seed: graded(seed))
    var fanIn = 1
    noGrad {
        for p in model.parameters() {
            if p.rank >= 2 { fanIn = p.count / p.shape[0] }
            let bound = 1 / Float(fanIn).squareRoot()
            p.assign(Tensor((0..<p.count).map { _ in bound * (2 * g.nextUnitFloat() - 1) }, shape: p.shape))
        }
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
            var mine = SeededGenerator(seed: graded(seed)), theirs = SeededGenerator(seed: graded(seed))
            var expected = Array(0..<n)
            var i = n - 1
            while i > 0 {
                expected.swapAt(i, Int(theirs.next(upperBound: UInt64(i + 1))))
                i -= 1
            }
            let got = randomPermutation(n, using: &mine)
            observe("randomPermutation(\(n), using: the test's generator number \(seed))", got)
            #expect(got == expected,
                    "n = \(n), seed \(seed): the order differs from the lesson's algorithm (for i from n − 1 down to 1: j = generator.next(upperBound: i + 1), swap i and j); first elements expected \(expected.prefix(8)), got \(got.prefix(8))")
            if got != expected { return }
        }
    }

    @Test func everyOrderOfFourIsEquallyLikely() {
        var g = SeededGenerator(seed: graded(4))
        var counts: [[Int]: Int] = [:]
        var firstOrders: [Int] = []
        for k in 0..<12_000 {
            let order = randomPermutation(4, using: &g)
            if k < 5 { firstOrders += order }
            counts[order, default: 0] += 1
        }
        // The draws are the lesson's (exact), so the first orders are the same for every correct solution.
        observe("the first 5 of 12,000 shuffles of four, one after another", firstOrders)
        observe("the number of different orders among 12,000 shuffles of four", counts.count)
        var hint = ""
        if counts.count == 6 { hint = " — only the 6 cyclic orders appear: j must range over 0...i, including i itself (otherwise an element can never stay put)" }
        #expect(counts.count == 24, "all 4! = 24 orders should appear in 12,000 shuffles, got \(counts.count)\(hint)")
        guard counts.count == 24 else { return }
        let (low, high) = (counts.values.min() ?? 0, counts.values.max() ?? 0)
        #expect(low >= 400 && high <= 600,
                "each of the 24 orders should appear about 500 times in 12,000 shuffles; counts range from \(low) to \(high) — a swap with a position drawn from all of 0..<n (not 0...i) makes some orders more likely")
        observe("the fewest and most times an order of four appeared in 12,000 shuffles (each within 400…600)", [Double(low), Double(high)], atol: 200)
    }

    @Test func everyPositionHoldsEveryValueEquallyOften() {
        var g = SeededGenerator(seed: graded(5))
        let n = 6
        var counts = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        var firstOrders: [Int] = []
        for k in 0..<12_000 {
            let order = randomPermutation(n, using: &g)
            if k < 5 { firstOrders += order }
            for (position, value) in order.enumerated() { counts[position][value] += 1 }
        }
        // The draws are the lesson's (exact), so the first orders are the same for every correct solution.
        observe("the first 5 of 12,000 shuffles of six, one after another", firstOrders)
        let flat = counts.flatMap { $0 }
        #expect(flat.allSatisfy { (1700...2300).contains($0) },
                "over 12,000 shuffles of 6, each value should land in each position about 2000 times; counts by position: \(counts)")
        observe("how often each value landed in each position over 12,000 shuffles of six (each within 1700…2300)", flat.map(Double.init), atol: 600)
    }

    @Test func aLongPermutationIsQuick() {
        var g = SeededGenerator(seed: graded(6))
        let p = randomPermutation(200_000, using: &g)
        var seen = [Bool](repeating: false, count: 200_000)
        for i in p where i >= 0 && i < seen.count { seen[i] = true }
        #expect(p.count == 200_000 && seen.allSatisfy { $0 }, "a permutation of 200,000 must hold each index once")
        #expect(Array(p.prefix(100)) != Array(0..<100), "and be shuffled")
        observe("the length of a permutation of 200,000", p.count)
        observe("whether it holds each index once", seen.allSatisfy { $0 })
        observe("whether it is shuffled", Array(p.prefix(100)) != Array(0..<100))
        observe("its first 50 elements", Array(p.prefix(50)))
        observe("Σ i·p[i] over the permutation of 200,000", p.enumerated().reduce(0) { $0 &+ $1.offset &* $1.element })
    }
}

// MARK: - 10.2 batchRanges

@Suite struct Exercise_10_2 {
    @Test func everySmallCaseAgainstTheDefinition() {
        var sizes: [Int] = []
        defer { observe("the number of batches of every (count 0…40, batchSize 1…12, dropLast) checked, in order", sizes) }
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
                    sizes.append(got.count)
                    if got != expected { return }
                }
            }
        }

        // Drawn from the grading seed: larger counts and batch sizes.
        var g = SeededGenerator(seed: graded(10201))
        for _ in 0..<8 {
            let batchSize = Int.random(in: 1...5_000, using: &g), dropLast = Bool.random(using: &g)
            let count = Int.random(in: 0...(40 * batchSize), using: &g)
            let whole = count / batchSize
            let expected = (0..<whole).map { $0 * batchSize..<($0 + 1) * batchSize } + (count % batchSize == 0 || dropLast ? [] : [whole * batchSize..<count])
            let got = batchRanges(count: count, batchSize: batchSize, dropLast: dropLast)
            #expect(got == expected, "batchRanges(count: \(count), batchSize: \(batchSize), dropLast: \(dropLast)): expected \(expected), got \(got)")
            observe("the bounds of batchRanges(count: \(count), batchSize: \(batchSize), dropLast: \(dropLast))", got.flatMap { [$0.lowerBound, $0.upperBound] })
        }
    }

    @Test func aBatchLargerThanTheData() {
        #expect(batchRanges(count: 5, batchSize: 64, dropLast: false) == [0..<5], "5 examples, batches of 64: one short batch [0..<5]")
        #expect(batchRanges(count: 5, batchSize: 64, dropLast: true).isEmpty, "with dropLast there is no full batch at all")
        #expect(batchRanges(count: 64, batchSize: 64, dropLast: true) == [0..<64], "exactly one full batch is kept with dropLast")
        for (count, batchSize, dropLast) in [(5, 64, false), (5, 64, true), (64, 64, true)] {
            observe("the bounds of batchRanges(count: \(count), batchSize: \(batchSize), dropLast: \(dropLast))",
                    batchRanges(count: count, batchSize: batchSize, dropLast: dropLast).flatMap { [$0.lowerBound, $0.upperBound] })
        }

        // Drawn from the grading seed: other data smaller than a batch, and exactly one batch.
        var g = SeededGenerator(seed: graded(10202))
        let batchSize = Int.random(in: 2...1_000, using: &g), count = Int.random(in: 1..<batchSize, using: &g)
        for (n, dropLast) in [(count, false), (count, true), (batchSize, true), (batchSize, false)] {
            let got = batchRanges(count: n, batchSize: batchSize, dropLast: dropLast)
            let expected = n == batchSize ? [0..<n] : dropLast ? [] : [0..<n]
            #expect(got == expected, "\(n) examples, batches of \(batchSize), dropLast \(dropLast): expected \(expected), got \(got)")
            observe("the bounds of batchRanges(count: \(n), batchSize: \(batchSize), dropLast: \(dropLast))", got.flatMap { [$0.lowerBound, $0.upperBound] })
        }
    }

    @Test func batchesOfOne() {
        let got = batchRanges(count: 4, batchSize: 1, dropLast: true)
        #expect(got == [0..<1, 1..<2, 2..<3, 3..<4], "batches of 1 are never short: got \(got)")
        observe("the bounds of batchRanges(count: 4, batchSize: 1, dropLast: true)", got.flatMap { [$0.lowerBound, $0.upperBound] })

        // Drawn from the grading seed: another count.
        var g = SeededGenerator(seed: graded(10203))
        let count = Int.random(in: 5...300, using: &g), dropLast = Bool.random(using: &g)
        let ones = batchRanges(count: count, batchSize: 1, dropLast: dropLast)
        #expect(ones == (0..<count).map { $0..<($0 + 1) }, "batches of 1 are never short: \(count) examples give \(count) batches; got \(ones.count)")
        observe("the bounds of batchRanges(count: \(count), batchSize: 1, dropLast: \(dropLast))", ones.flatMap { [$0.lowerBound, $0.upperBound] })
    }

    @Test func aShuffledLoaderWithDropLast() {
        let data = TensorDataset(inputs: Tensor.zeros([23, 2]), targets: Tensor((0..<23).map(Float.init)))
        let loader = DataLoader(data, batchSize: 5, shuffle: true, dropLast: true, seed: graded(11))
        #expect(loader.count == 4, "23 examples in full batches of 5: 4 batches, got \(loader.count)")
        observe("the number of batches of 23 examples in full batches of 5", loader.count)
        var everyEpochSame = true
        var first: [Int]?
        for epoch in 0..<3 {
            let batches = loader.map(\.labels)
            let all = batches.flatMap { $0 }
            #expect(batches.map(\.count) == [5, 5, 5, 5] && Set(all).count == 20,
                    "epoch \(epoch): 4 batches of 5 distinct examples, got sizes \(batches.map(\.count))")
            // The loader's order comes from randomPermutation (exact), so every correct solution serves the same labels.
            observe("epoch \(epoch): the labels of each batch, one batch after another", all)
            observe("epoch \(epoch): the size of each batch", batches.map(\.count))
            if let first, first != all { everyEpochSame = false }
            first = first ?? all
        }
        #expect(!everyEpochSame, "each epoch draws a new order")
        observe("whether the epochs' orders differ", !everyEpochSame)
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
            observe("the shape parsed from the header of \(what)", got)
        }

        // Drawn from the grading seed: other valid headers, of every rank up to 4, sizes up to 2³¹ − 1.
        checkDrawnHeaders("valid headers", .valid, seed: 10301)
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
        observe("the shape parsed from 00 00 08 00", scalar)
        observe("the shape parsed from the header [2, 2] followed by 3 data bytes", shape)

        // Drawn from the grading seed: headers followed by any number of data bytes, and rank 0.
        var g = SeededGenerator(seed: graded(10302))
        var parsed: [String] = []
        for _ in 0..<6 {
            let shape = (0..<Int.random(in: 0...3, using: &g)).map { _ in Int.random(in: 0...300, using: &g) }
            let bytes = idx(shape: shape, data: (0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
            let got = outcome(bytes)
            #expect(got == "the shape \(shape)", "the header describes shape \(shape), whatever follows it (\(bytes.count - 4 - 4 * shape.count) data bytes); got \(got)")
            parsed.append(got)
        }
        observe("what parseIDXHeader made of six drawn headers followed by data", parsed.joined(separator: "; "))
    }

    @Test func truncatedHeaders() {
        for n in 0..<4 {
            expectRejected(Array([0, 0, 8, 1].prefix(n)), "truncated header", because: "\(n) bytes cannot hold magic, type and rank")
        }
        expectRejected([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0], "truncated header", because: "rank 2 needs 4 + 8 = 12 header bytes, there are 11")
        expectRejected([0, 0, 8, 1], "truncated header", because: "rank 1 needs 8 header bytes, there are 4")

        // Drawn from the grading seed: other headers cut short.
        checkDrawnHeaders("headers cut short, and whole ones", .truncated, seed: 10303)
    }

    @Test func badMagic() {
        expectRejected([1, 0, 8, 1, 0, 0, 0, 1], "bad magic", because: "the first byte must be 0")
        expectRejected([0, 7, 8, 1, 0, 0, 0, 1], "bad magic", because: "the second byte must be 0")
        expectRejected([0x1F, 0x8B, 8, 0, 0, 0, 0, 0], "bad magic", because: "a gzip stream (1f 8b) that was not inflated is not IDX")

        // Drawn from the grading seed: other bad magic numbers.
        checkDrawnHeaders("bad magic numbers, and good ones", .badMagic, seed: 10304)
    }

    @Test func unsupportedElementTypes() {
        for code: UInt8 in [0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF] {
            expectRejected(idx(shape: [1], data: [0], dtype: code), "unsupported element type",
                           because: "type 0x\(String(code, radix: 16)) is not 0x08 (unsigned byte)")
        }

        // Drawn from the grading seed: other element types, other ranks and lengths.
        checkDrawnHeaders("unsupported element types, and 0x08", .badType, seed: 10305)
    }

    @Test func checksInTheLessonsOrder() {
        // length ≥ 4 → magic → type → header length
        expectRejected([5, 5, 0x0D, 9], "bad magic", because: "the magic is checked before the type")
        expectRejected([0, 0, 0x0D, 9], "unsupported element type", because: "the type is checked before the header's length")

        // Drawn from the grading seed: headers with several problems at once.
        checkDrawnHeaders("headers with several problems", .anyProblem, seed: 10306, count: 12)
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
        observe("the shape of the inputs loaded from three small files", data.inputs.shape)
        observe("the labels loaded from three small files", data.targets.toArray())
        observe("pixels [0, 0, 0, 5] and [1, 0, 0, 0] loaded from three small files", [data.inputs[0, 0, 0, 5], data.inputs[1, 0, 0, 0]])

        // Drawn from the grading seed: other images and labels, in another directory.
        var g = SeededGenerator(seed: graded(10307))
        let other = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: other) }
        let n = Int.random(in: 1...5, using: &g)
        let image = (0..<(n * 28 * 28)).map { _ in UInt8.random(in: 0...255, using: &g) }
        let labels = (0..<n).map { _ in UInt8.random(in: 0...9, using: &g) }
        try Data(idx(shape: [n, 28, 28], data: image)).write(to: other.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data(idx(shape: [n], data: labels)).write(to: other.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let drawn = try FashionMNIST.load(.test, searching: [other.path])
        #expect(drawn.inputs.shape == [n, 1, 28, 28] && drawn.targets.toArray() == labels.map(Float.init)
                && drawn.inputs.sliced(axis: 0, from: 0, to: 1).toArray() == image.prefix(784).map { Float($0) / 255 },
                "\(n) drawn 28×28 images labelled \(labels): got inputs \(drawn.inputs.shape), labels \(drawn.targets.toArray())")
        observe("the shape of the inputs loaded from \(n) drawn images", drawn.inputs.shape)
        observe("the labels loaded from \(n) drawn images", drawn.targets.toArray())
        observe("the first row of the first drawn image", drawn.inputs.sliced(axis: 0, from: 0, to: 1).toArray().prefix(28).map { $0 })
        observe("the sum of all drawn pixels", Double(drawn.inputs.sum().item()), atol: 1e-2, rtol: 1e-5)
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
            observe("the reason readIDX gives for a file of type 0x0B", reasonKind(error.reason))
            observe("whether the error names the file", error.path == path)
        }

        // Drawn from the grading seed: a valid file of another shape, and a broken one of another type.
        var g = SeededGenerator(seed: graded(10308))
        let shape = (0..<Int.random(in: 1...3, using: &g)).map { _ in Int.random(in: 1...6, using: &g) }
        let values = (0..<shape.reduce(1, *)).map { _ in UInt8.random(in: 0...255, using: &g) }
        let good = dir.appendingPathComponent("drawn-\(Int.random(in: 0...999, using: &g))-idx\(shape.count)-ubyte").path
        try Data(idx(shape: shape, data: values)).write(to: URL(fileURLWithPath: good))
        let read = try readIDX(good)
        #expect(read.shape == shape && read.bytes == values, "readIDX of a drawn file of shape \(shape): got shape \(read.shape)")
        observe("the shape readIDX read from a drawn file", read.shape)
        observe("the bytes readIDX read from a drawn file", read.bytes.map { Int($0) })
        let type = [UInt8(0x09), 0x0B, 0x0C, 0x0D, 0x0E].randomElement(using: &g)!
        let bad = dir.appendingPathComponent("drawn-\(Int.random(in: 0...999, using: &g))-idx1-ubyte").path
        try Data(idx(shape: [2], data: [1, 2], dtype: type)).write(to: URL(fileURLWithPath: bad))
        do {
            _ = try readIDX(bad)
            Issue.record("readIDX of a file of type 0x\(String(type, radix: 16)) should throw")
        } catch let error as DataError {
            #expect(error.path == bad && error.reason.contains("unsupported element type"),
                    "expected '\(bad): unsupported element type …', got '\(error)'")
            observe("the reason readIDX gives for a file of type 0x\(String(type, radix: 16))", reasonKind(error.reason))
            observe("whether the error names the file", error.path == bad)
        }
    }

    @Test(.enabled(if: fashionMNISTTestSplitIsInstalled, "Fashion-MNIST is not installed"))
    func theRealTestSplit() throws {
        let test = try FashionMNIST.load(.test)
        #expect(test.inputs.shape == [10_000, 1, 28, 28], "the test split holds 10,000 images of 28×28, got \(test.inputs.shape)")
        let labels = test.targets.sliced(axis: 0, from: 0, to: 10).toArray().map { Int($0) }
        #expect(labels == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7], "the first ten test labels are 9 2 1 1 6 1 4 6 5 7, got \(labels)")
        observe("the shape of the test split's inputs", test.inputs.shape)
        observe("the first ten test labels", labels)

        // Drawn from the grading seed: other images of the split.
        var g = SeededGenerator(seed: graded(10309))
        let picks = (0..<8).map { _ in Int.random(in: 0..<10_000, using: &g) }
        observe("the labels of test images \(picks)", picks.map { Int(test.targets[$0]) })
        observe("the pixel sums of test images \(picks)", picks.map { Double(test.inputs.sliced(axis: 0, from: $0, to: $0 + 1).sum().item()) }, atol: 1e-3, rtol: 1e-5)
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
        let data = clusters(50, seed: graded(41))
        let (mine, reference) = Self.twins(seed: graded(41))
        drawParameters(mine, seed: 1041)
        drawParameters(reference, seed: 1041)
        let myOptimizer = SGD(parameters: mine.parameters(), learningRate: 0.1, momentum: 0.9)
        let referenceOptimizer = SGD(parameters: reference.parameters(), learningRate: 0.1, momentum: 0.9)
        let myLoader = DataLoader(data, batchSize: 8, shuffle: true, seed: graded(41))
        let referenceLoader = DataLoader(data, batchSize: 8, shuffle: true, seed: graded(41))
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
            observe("the mean loss trainEpoch returns for epoch \(epoch)", loss, atol: 1e-4, rtol: 1e-4)
            observe("the parameters after epoch \(epoch), in order", mine.parameters().flatMap { $0.toArray() }, atol: 1e-4, rtol: 1e-3)
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
        observe("the rows of each forward call", recorder.calls.map(\.rows))
        observe("whether every forward call ran in training mode and recorded a graph", recorder.calls.allSatisfy { $0.training && $0.recording })

        // Drawn from the grading seed: other data, batch size and dropLast, a model with drawn weights.
        var g = SeededGenerator(seed: graded(10402))
        let n = Int.random(in: 5...40, using: &g), batchSize = Int.random(in: 2...9, using: &g), dropLast = Bool.random(using: &g)
        let other = Recorder(Linear(2, 4))
        drawParameters(other, seed: 10412)
        other.eval()
        let loss = trainEpoch(model: other, loader: DataLoader(clusters(n, seed: graded(10422)), batchSize: batchSize, dropLast: dropLast),
                              optimizer: SGD(parameters: other.parameters(), learningRate: 0.01))
        let rows = batchRanges(count: n, batchSize: batchSize, dropLast: dropLast).map(\.count)
        #expect(other.calls.map(\.rows) == rows && other.calls.allSatisfy { $0.training && $0.recording },
                "\(n) examples in batches of \(batchSize) (dropLast \(dropLast)): one forward call per batch \(rows), in training mode, recording; got \(other.calls.map { "\($0.rows) rows, training \($0.training), recording \($0.recording)" })")
        observe("the rows of each forward call for \(n) examples in batches of \(batchSize) (dropLast \(dropLast))", other.calls.map(\.rows))
        observe("the mean loss of that epoch", loss, atol: 1e-4, rtol: 1e-4)
    }

    @Test func onBatchGetsTheRunningMean() {
        let model = withSeed(graded(43)) { Linear(2, 4) }
        drawParameters(model, seed: 1043)
        let data = clusters(10, seed: graded(43))
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
        observe("onBatch's first arguments", calls.map(\.0))
        observe("onBatch's second arguments: the mean loss per example so far", calls.map(\.1), atol: 2e-5, rtol: 1e-5)
        observe("the epoch's mean loss", loss, atol: 2e-5, rtol: 1e-5)
    }

    @Test func anEpochWithoutBatches() {
        let model = Linear(2, 4)
        var calls = 0
        let loss = trainEpoch(model: model, loader: DataLoader(clusters(3, seed: graded(44)), batchSize: 4, dropLast: true),
                              optimizer: SGD(parameters: model.parameters(), learningRate: 0.1)) { _, _ in calls += 1 }
        #expect(loss == 0 && calls == 0, "no batch at all (3 examples, dropLast with batches of 4): loss 0 and no onBatch call; got loss \(loss), \(calls) calls — 0/0 is NaN")
        observe("the loss of an epoch without batches", loss)
        observe("the number of onBatch calls in an epoch without batches", calls)

        // Drawn from the grading seed: other data too small for a full batch, then exactly one full batch.
        var g = SeededGenerator(seed: graded(10404))
        let batchSize = Int.random(in: 2...12, using: &g), n = Int.random(in: 1..<batchSize, using: &g)
        let other = Linear(2, 4)
        drawParameters(other, seed: 10414)
        var none = 0
        let empty = trainEpoch(model: other, loader: DataLoader(clusters(n, seed: graded(10424)), batchSize: batchSize, dropLast: true),
                               optimizer: SGD(parameters: other.parameters(), learningRate: 0.1)) { _, _ in none += 1 }
        #expect(empty == 0 && none == 0, "no batch at all (\(n) examples, dropLast with batches of \(batchSize)): loss 0 and no onBatch call; got loss \(empty), \(none) calls — 0/0 is NaN")
        observe("the loss and onBatch calls of an epoch of \(n) examples with dropLast and batches of \(batchSize)", [empty, Double(none)])
        let full = clusters(batchSize, seed: graded(10434))
        let before = Double(crossEntropy(other(full.inputs), full.batch(Array(0..<batchSize)).labels).item())
        var once = 0
        let one = trainEpoch(model: other, loader: DataLoader(full, batchSize: batchSize, dropLast: true),
                             optimizer: SGD(parameters: other.parameters(), learningRate: 0.1)) { _, _ in once += 1 }
        #expect(Swift.abs(one - before) < 1e-5 && once == 1,
                "exactly one full batch of \(batchSize) with dropLast: one onBatch call, and the loss of that batch before the step, \(before); got loss \(one), \(once) calls")
        observe("the loss of an epoch of exactly one full batch of \(batchSize)", one, atol: 2e-5, rtol: 1e-5)
        observe("the number of onBatch calls in that epoch", once)
    }

    @Test func fourClustersAreLearned() {
        let data = clusters(400, seed: graded(45))
        let model = withSeed(graded(45)) { Sequential(Linear(2, 16), ReLU(), Linear(16, 4)) }
        drawParameters(model, seed: 1045)
        let optimizer = Adam(parameters: model.parameters(), learningRate: 0.02)
        let loader = DataLoader(data, batchSize: 32, shuffle: true, seed: graded(45))
        let losses = (0..<8).map { _ in trainEpoch(model: model, loader: loader, optimizer: optimizer) }
        #expect(losses.last! < 0.35 && losses.last! < losses.first!, "8 epochs on four clusters should bring the loss under 0.35, got \(losses)")
        // The first epoch starts from the same drawn weights everywhere; later ones drift with rounding, so only the bound is compared.
        observe("the mean loss of the first epoch on four clusters", losses.first!, atol: 1e-3, rtol: 1e-3)
        observe("the mean loss of the eighth epoch on four clusters (under 0.35)", losses.last!, atol: 0.35)
        observe("whether the loss fell", losses.last! < losses.first!)
    }
}

// MARK: - 10.5 accuracy

@Suite struct Exercise_10_5 {
    @Test func aBatchSizeThatDoesNotDivideTheData() {
        let data = clusters(7, seed: graded(51))
        let recorder = Recorder(Linear(2, 4))
        drawParameters(recorder, seed: 1051)
        let predicted = recorder.inner(data.inputs).argmax(axis: 1).toArray().map { Int($0) }
        let labels = data.batch(Array(0..<7)).labels
        let expected = Double(zip(predicted, labels).filter { $0 == $1 }.count) / 7
        let acc = accuracy(of: recorder, on: data, batchSize: 3)
        #expect(Swift.abs(acc - expected) < 1e-12, "7 examples in batches of 3, 3, 1: expected \(expected), got \(acc) — count every example, including the short last batch, and divide by the dataset's size")
        #expect(recorder.calls.map(\.rows) == [3, 3, 1], "batches of 3, 3, 1 expected, got \(recorder.calls.map(\.rows))")
        observe("the accuracy on 7 examples in batches of 3", acc, atol: 1e-12)
        observe("the rows of each forward call", recorder.calls.map(\.rows))

        // Drawn from the grading seed: other data and batch size, a model with drawn weights.
        var g = SeededGenerator(seed: graded(10501))
        let n = Int.random(in: 10...60, using: &g), batchSize = Int.random(in: 3...9, using: &g)
        let other = clusters(n, seed: graded(10511))
        let model = Recorder(Linear(2, 4))
        drawParameters(model, seed: 10521)
        let scores = model.inner(other.inputs).toArray()
        let right = other.batch(Array(0..<n)).labels.enumerated().filter { i, label in
            let row = scores[(i * 4)..<(i * 4 + 4)]
            return row.firstIndex(of: row.max()!)! - i * 4 == label
        }.count
        let drawnAcc = accuracy(of: model, on: other, batchSize: batchSize)
        let rows = batchRanges(count: n, batchSize: batchSize, dropLast: false).map(\.count)
        #expect(Swift.abs(drawnAcc - Double(right) / Double(n)) < 1e-12 && model.calls.map(\.rows) == rows,
                "\(n) examples in batches of \(batchSize): expected accuracy \(Double(right) / Double(n)) and batches \(rows), got \(drawnAcc) and \(model.calls.map(\.rows)) — count every example, including the short last batch, and divide by the dataset's size")
        observe("the accuracy on \(n) drawn examples in batches of \(batchSize)", drawnAcc, atol: 1e-12)
        observe("the rows of each forward call for \(n) examples in batches of \(batchSize)", model.calls.map(\.rows))
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
        observe("the number of forward calls for 30 examples", recorder.calls.count)
        observe("whether every call ran in eval mode without a graph", recorder.calls.allSatisfy { !$0.training && !$0.recording })
        observe("whether the model and its layers are back in training mode", recorder.isTraining && recorder.inner.namedModules().allSatisfy { $0.module.isTraining })

        // Drawn from the grading seed: other data and batch size, a model with drawn weights.
        var g = SeededGenerator(seed: graded(10502))
        let n = Int.random(in: 20...80, using: &g), batchSize = Int.random(in: 4...30, using: &g)
        let model = Recorder(Sequential(Linear(2, 5), ReLU(), Linear(5, 4)))
        drawParameters(model, seed: 10512)
        let acc = accuracy(of: model, on: clusters(n, seed: graded(10522)), batchSize: batchSize)
        let calls = (n + batchSize - 1) / batchSize
        #expect(model.calls.count == calls && model.calls.allSatisfy { !$0.training && !$0.recording } && model.isTraining,
                "\(n) examples in batches of \(batchSize): \(calls) calls in eval mode inside noGrad, training mode afterwards; got \(model.calls.map { "training \($0.training), recording \($0.recording)" })")
        observe("the number of forward calls for \(n) examples in batches of \(batchSize)", model.calls.count)
        observe("the accuracy of a drawn model on \(n) drawn examples", acc, atol: 1e-12)
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
        observe("the accuracy of the perfect and the hopeless model", [perfect, hopeless])

        // Drawn from the grading seed: other labels, and a model that maps each class to a drawn one (right where it maps it to itself).
        var g = SeededGenerator(seed: graded(10503))
        let n = Int.random(in: 10...60, using: &g)
        let drawnLabels = (0..<n).map { _ in Float(Int.random(in: 0...3, using: &g)) }
        let mapping = (0..<4).map { _ in Int.random(in: 0...3, using: &g) }  // class c scores highest at mapping[c]
        let drawnData = TensorDataset(inputs: Tensor(drawnLabels.flatMap { l in (0..<4).map { Float($0) == l ? 1 : 0 } }, shape: [n, 4]),
                                      targets: Tensor(drawnLabels))
        let mapper = Linear(4, 4, bias: false)
        noGrad { mapper.weight.withUnsafeMutableElements { w in for j in 0..<4 { for i in 0..<4 { w[j * 4 + i] = mapping[i] == j ? 1 : 0 } } } }
        let drawnAcc = accuracy(of: mapper, on: drawnData, batchSize: Int.random(in: 1...n, using: &g))
        let expected = Double(drawnLabels.filter { mapping[Int($0)] == Int($0) }.count) / Double(n)
        #expect(drawnAcc == expected, "a model that sends class c to \(mapping)[c] on labels \(drawnLabels): accuracy \(expected), got \(drawnAcc) — compare the argmax of each row with its label")
        observe("the accuracy of a model that sends class c to \(mapping)[c] on \(n) drawn labels", drawnAcc)
    }

    @Test(.enabled(if: fashionMNISTTestSplitIsInstalled, "Fashion-MNIST is not installed"))
    func anUntrainedMLPIsNearChanceOnFashionMNIST() throws {
        let test = try FashionMNIST.load(.test)
        let model = withSeed(graded(53)) { Sequential(Flatten(), Linear(784, 32), ReLU(), Linear(32, 10)) }
        let acc = accuracy(of: model, on: test)
        #expect(acc > 0.01 && acc < 0.3, "an untrained 10-class model should be near chance (10%), got \(acc)")
        observe("the accuracy of an untrained MLP on the test split (between 0.01 and 0.3)", acc, atol: 0.29)

        // Drawn from the grading seed: an untrained MLP with drawn weights (the same everywhere), on a drawn half of the split.
        let drawnModel = Sequential(Flatten(), Linear(784, 32), ReLU(), Linear(32, 10))
        drawParameters(drawnModel, seed: 10504)
        var g = SeededGenerator(seed: graded(10514))
        let start = Int.random(in: 0...5_000, using: &g)
        let half = TensorDataset(inputs: test.inputs.sliced(axis: 0, from: start, to: start + 5_000),
                                 targets: test.targets.sliced(axis: 0, from: start, to: start + 5_000))
        let drawnAcc = accuracy(of: drawnModel, on: half, batchSize: Int.random(in: 100...1_000, using: &g))
        #expect(drawnAcc > 0.01 && drawnAcc < 0.3, "an untrained 10-class model should be near chance (10%) on test images \(start)..<\(start + 5_000), got \(drawnAcc)")
        // Rounding may move an image whose two best scores nearly tie: a few images either way.
        observe("the accuracy of an untrained MLP with drawn weights on test images \(start)..<\(start + 5_000)", drawnAcc, atol: 1e-3)
    }
}
