import Testing
import Kindling

// Hidden tests of lesson 3 (broadcasting and the elementwise kernels). The
// grader maps each test to its exercise by the suite name `Exercise_3_N`; each
// suite uses only its own exercise and earlier ones. They probe what the
// visible tests leave out: scalars and zero sizes, ranks that differ by more
// than one, size-1 axes with odd strides, operands with offsets, gaps and
// stride 0, operand order, NaN in the branch `where` does not pick. (Until 3.6
// is done a contiguous matrix plus a row would stop on 3.6's stub, so the
// suites of 3.4 and 3.5 keep one operand non-contiguous or of another shape.)
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

// MARK: - The tests' own reference (independent of the exercises)

/// `values` (row-major, `shape`) broadcast to `target` by the rule itself.
private func broadcastValues(_ values: [Float], _ shape: [Int], to target: [Int]) -> [Float] {
    let lead = target.count - shape.count
    return indicesOf(target).map { index in
        values[position(shape.indices.map { shape[$0] == 1 ? 0 : index[lead + $0] }, shape)]
    }
}

/// The visits (i, offset in A, offset in B) of a row-major walk, index by index.
private func referenceVisits(shape: [Int], stridesA: [Int], offsetA: Int, stridesB: [Int], offsetB: Int) -> [[Int]] {
    indicesOf(shape).enumerated().map { i, index in
        [i, offsetA + zip(index, stridesA).reduce(0) { $0 + $1.0 * $1.1 },
         offsetB + zip(index, stridesB).reduce(0) { $0 + $1.0 * $1.1 }]
    }
}

/// A view that reads `values` (row-major, `shape`) but sits in storage with gaps
/// and an offset: every element of a wider tensor's odd columns. Not contiguous
/// (unless it has at most one element).
private func gapped(_ values: [Float], _ shape: [Int]) -> Tensor {
    guard let last = shape.last else { return Tensor(values, shape: shape) }
    var wide = shape
    wide[wide.count - 1] = 2 * last + 1
    var stored = [Float](repeating: -777, count: wide.reduce(1, *))
    for index in indicesOf(shape) {
        var w = index
        w[w.count - 1] = 2 * index[index.count - 1] + 1
        stored[position(w, wide)] = values[position(index, shape)]
    }
    return Tensor(stored, shape: wide).sliced(axis: -1, from: 1, step: 2)
}

/// Row-major values 1, 2, 3, … for a shape.
private func counting(_ shape: [Int], from start: Float = 1) -> [Float] {
    (0..<shape.reduce(1, *)).map { start + Float($0) }
}

extension MistakeHint {
    /// Every element is f(b, a) for a subtraction: the operands were swapped.
    static let operandsSwapped = MistakeHint(message: "every value has the wrong sign: are the operands swapped — f(b, a) instead of f(a, b)? The first operand's element goes first.") { a, sa, e, se in
        sa == se && e.contains { $0 != 0 } && zip(a, e).allSatisfy { $0 == -$1 }
    }
    /// NaN where the expected value is a number: `where` blended instead of picking.
    static let whereBlendedNaN = MistakeHint(message: "NaN appeared where the mask picks the other tensor: pick with a conditional (m != 0 ? a : b), do not blend with m·a + (1 − m)·b — 0 · NaN and 0 · ∞ are NaN.") { a, sa, e, se in
        sa == se && zip(a, e).contains { $0.isNaN && !$1.isNaN }
    }
    /// A 0/1 mask that is exactly flipped: `b .> a` instead of `a .> b`.
    static let comparisonSwapped = MistakeHint(message: "every 0 should be 1 and every 1 should be 0: are the operands swapped — f(b, a) instead of f(a, b)? (x .> y compares x's element with y's, in that order.)") { a, sa, e, se in
        sa == se && !e.isEmpty && zip(a, e).allSatisfy { $0 == 1 - $1 }
    }
    /// The right values in the wrong places — e.g. a column read as a row.
    static let broadcastRepeatPattern = MistakeHint(message: "the values are right but in the wrong places: a broadcast operand must read index 0 along every stretched axis (stride 0) and keep its own stride elsewhere, and the output is written in row-major order (out[i]).") { a, sa, e, se in
        sa == se && a != e && a.sorted() == e.sorted()
    }
}

/// `expectValues` with the hints that fit a forward computation.
private func expectForward(_ what: String, _ actual: Tensor, _ expected: [Float], shape: [Int],
                           hints: [MistakeHint] = [.broadcastRepeatPattern],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    expectValues(what, actual, expected, shape: shape, atol: 0, rtol: 1e-6, hints: hints, sourceLocation: sourceLocation)
}

/// Small whole numbers as Floats (sums, differences and products of these are exact).
private func wholeNumbers(_ count: Int, _ range: ClosedRange<Int>, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: range, using: &g)) }
}

/// Whole numbers that are never 0 (divisors).
private func nonZeroWholeNumbers(_ count: Int, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: 1...9, using: &g) * (Bool.random(using: &g) ? 1 : -1)) }
}

/// Observes a list of integer lists (shapes, strides) as their lengths and their entries in order.
private func observeLists(_ what: String, _ lists: [[Int]]) {
    observe("\(what) — their lengths", lists.map(\.count))
    observe("\(what) — their entries, one list after another", lists.flatMap { $0 })
}

/// Observes yes/no answers as 1 (yes) and 0 (no).
private func observeAnswers(_ what: String, _ answers: [Bool]) {
    observe("\(what) (1 = yes, 0 = no)", answers.map { $0 ? 1 : 0 })
}

/// Two shapes that broadcast together: `target` with some axes made 1 and some leading ones dropped, twice.
private func compatibleShapes(_ target: [Int], _ g: inout SeededGenerator) -> ([Int], [Int]) {
    let a = target.dropFirst(Int.random(in: 0...target.count, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
    let b = target.dropFirst(Int.random(in: 0...target.count, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
    return (a, b)
}

/// Whether a contiguous `small` broadcast to `big` reads storage slots 0, 1, …, n − 1 over and over
/// (one contiguous block, repeated), by walking every element.
private func referenceTrailingBlock(_ small: [Int], of big: [Int]) -> Bool {
    let n = small.reduce(1, *)
    guard n > 0 else { return false }
    let strides = broadcastStridesByHand(small, to: big)
    for (i, index) in indicesOf(big).enumerated() where zip(index, strides).reduce(0, { $0 + $1.0 * $1.1 }) != i % n {
        return false
    }
    return true
}

/// Row-major strides of `small`, broadcast to `big` by hand (0 on new and stretched axes).
private func broadcastStridesByHand(_ small: [Int], to big: [Int]) -> [Int] {
    let own = referenceStrides(small), lead = big.count - small.count
    return big.indices.map { i in i < lead || (small[i - lead] == 1 && big[i] != 1) ? 0 : own[i - lead] }
}

// MARK: - 3.1 broadcastShapes

@Suite struct Exercise_3_1 {
    @Test func scalarsBroadcastToAnything() {
        observeLists("broadcastShapes of ([], []), ([3], []), ([4, 1], [])", [broadcastShapes([], []), broadcastShapes([3], []), broadcastShapes([4, 1], [])])
        #expect(broadcastShapes([], []) == [], "two scalars give a scalar, got \(broadcastShapes([], []))")
        #expect(broadcastShapes([3], []) == [3], "got \(broadcastShapes([3], []))")
        #expect(broadcastShapes([4, 1], []) == [4, 1], "a scalar changes nothing, got \(broadcastShapes([4, 1], []))")

        // Drawn from the grading seed: another shape with a scalar, on either side.
        var g = SeededGenerator(seed: graded(3101))
        let shape = (0..<Int.random(in: 3...5, using: &g)).map { _ in Int.random(in: 0...30, using: &g) }
        let results = [broadcastShapes(shape, []), broadcastShapes([], shape)]
        observeLists("broadcastShapes of (\(shape), []) and ([], \(shape))", results)
        #expect(results == [shape, shape], "a scalar changes nothing: broadcastShapes(\(shape), []) and broadcastShapes([], \(shape)) should be \(shape), got \(results)")
    }

    @Test func sizeOneStretchesEvenToZero() {
        let s = broadcastShapes([1], [0])
        observeLists("broadcastShapes of ([1], [0]), ([2, 0], [2, 1]), ([1, 3], [0, 1])", [s, broadcastShapes([2, 0], [2, 1]), broadcastShapes([1, 3], [0, 1])])
        #expect(s == [0], "a size 1 stretches to any size, 0 included: [1] with [0] is [0], got \(s)\(s == [1] ? " — max(1, 0) is 1: take the other size whenever one size is 1" : "")")
        #expect(broadcastShapes([2, 0], [2, 1]) == [2, 0], "got \(broadcastShapes([2, 0], [2, 1]))")
        #expect(broadcastShapes([1, 3], [0, 1]) == [0, 3], "got \(broadcastShapes([1, 3], [0, 1]))")

        // Drawn from the grading seed: shapes where a size 1 meets a 0, and other sizes.
        var g = SeededGenerator(seed: graded(3102))
        for _ in 0..<3 {
            var target = (0..<Int.random(in: 2...4, using: &g)).map { _ in Int.random(in: 2...5, using: &g) }
            let zeroAxis = Int.random(in: 0..<target.count, using: &g)
            target[zeroAxis] = 0
            var a = target.map { Bool.random(using: &g) ? 1 : $0 }, b = target
            for i in target.indices where a[i] != 1 && Bool.random(using: &g) { b[i] = 1 }
            a[zeroAxis] = 1
            b[zeroAxis] = 0
            let got = broadcastShapes(a, b)
            observe("broadcastShapes(\(a), \(b))", got)
            #expect(got == target, "a size 1 stretches to any size, 0 included: \(a) with \(b) is \(target), got \(got)")
        }
    }

    @Test func ranksThatDifferByMoreThanOne() {
        let s = broadcastShapes([8, 1, 6, 1], [7, 1, 5])
        let t = broadcastShapes([3], [2, 1, 1, 3])
        observeLists("broadcastShapes of ([8, 1, 6, 1], [7, 1, 5]) and ([3], [2, 1, 1, 3])", [s, t])
        #expect(s == [8, 7, 6, 5], "NumPy's example: [8, 1, 6, 1] with [7, 1, 5] is [8, 7, 6, 5], got \(s)")
        #expect(t == [2, 1, 1, 3], "[3] lines up with the LAST axis of [2, 1, 1, 3], got \(t)\(t.first == 3 ? " — shapes align at their last axis, not their first" : "")")

        // Drawn from the grading seed: a rank-4 or rank-5 shape with one of rank at most 2.
        var g = SeededGenerator(seed: graded(3103))
        for _ in 0..<3 {
            let target = (0..<Int.random(in: 4...5, using: &g)).map { _ in Int.random(in: 2...6, using: &g) }
            let a = target.map { Bool.random(using: &g) ? 1 : $0 }
            let b = target.suffix(Int.random(in: 1...2, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let expected = (try? broadcastShapesOrNil(a, b)) ?? nil
            let got = broadcastShapes(a, b)
            observe("broadcastShapes(\(a), \(b))", got)
            #expect(got == expected, "\(a) with \(b) is \(expected ?? []), got \(got) — shapes align at their last axis, not their first")
        }
    }

    @Test func orderDoesNotMatter() {
        let pairs: [([Int], [Int])] = [([3, 1], [4]), ([5, 1, 4], [3, 1]), ([1], [2, 2]), ([2, 1, 3], [1, 4, 1])]
        observeLists("broadcastShapes(a, b) then broadcastShapes(b, a) for (a, b) in \(pairs)", pairs.flatMap { [broadcastShapes($0.0, $0.1), broadcastShapes($0.1, $0.0)] })
        for (a, b) in pairs {
            #expect(broadcastShapes(a, b) == broadcastShapes(b, a),
                    "broadcastShapes(\(a), \(b)) = \(broadcastShapes(a, b)) but broadcastShapes(\(b), \(a)) = \(broadcastShapes(b, a)): the rule is symmetric")
        }

        // Drawn from the grading seed: more pairs, both ways round.
        var g = SeededGenerator(seed: graded(3104))
        for _ in 0..<4 {
            let (a, b) = compatibleShapes((0..<Int.random(in: 1...4, using: &g)).map { _ in Int.random(in: 2...5, using: &g) }, &g)
            let both = [broadcastShapes(a, b), broadcastShapes(b, a)]
            observeLists("broadcastShapes(\(a), \(b)) and broadcastShapes(\(b), \(a))", both)
            let expected = (try? broadcastShapesOrNil(a, b)) ?? nil
            #expect(both[0] == expected && both[1] == expected,
                    "broadcastShapes(\(a), \(b)) = \(both[0]) and broadcastShapes(\(b), \(a)) = \(both[1]): both should be \(expected ?? []) — the rule is symmetric")
        }
    }

    @Test func randomShapesAgreeWithTheRule() throws {
        var g = SeededGenerator(seed: graded(301))
        var results: [[Int]] = []
        for _ in 0..<400 {
            let rank = Int.random(in: 0...5, using: &g)
            let target = (0..<rank).map { _ in Int.random(in: 0...4, using: &g) }
            let a = target.dropFirst(Int.random(in: 0...rank, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let b = target.dropFirst(Int.random(in: 0...rank, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let expected = try #require(try broadcastShapesOrNil(a, b))
            let got = broadcastShapes(a, b)
            results.append(got)
            #expect(got == expected, "broadcastShapes(\(a), \(b)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
        observeLists("broadcastShapes of 400 random pairs of shapes", results)
    }
}

// MARK: - 3.2 broadcastStrides

@Suite struct Exercise_3_2 {
    @Test func aStretchedAxisGetsZeroWhateverItsStride() {
        let s = broadcastStrides(shape: [1, 3], strides: [99, 1], to: [4, 3])
        observe("broadcastStrides(shape: [1, 3], strides: [99, 1], to: [4, 3])", s)
        #expect(s == [0, 1], "shape [1, 3] with strides [99, 1] read as [4, 3]: the stretched axis must get stride 0, got \(s)\(s == [99, 1] ? " — keeping 99 would step 99 slots per row, past the data" : "")")

        // Drawn from the grading seed: another stretched row with another stride.
        var g = SeededGenerator(seed: graded(3201))
        let n = Int.random(in: 2...9, using: &g), m = Int.random(in: 2...9, using: &g)
        let strides = [Int.random(in: 2...99, using: &g), Int.random(in: 1...5, using: &g)]
        let t = broadcastStrides(shape: [1, n], strides: strides, to: [m, n])
        observe("broadcastStrides(shape: [1, \(n)], strides: \(strides), to: [\(m), \(n)])", t)
        #expect(t == [0, strides[1]], "shape [1, \(n)] with strides \(strides) read as [\(m), \(n)]: the stretched axis must get stride 0, expected [0, \(strides[1])], got \(t)")
    }

    @Test func nonContiguousStridesAreKept() {
        let s = broadcastStrides(shape: [3, 2], strides: [1, 3], to: [5, 3, 2])
        let t = broadcastStrides(shape: [2, 1, 4], strides: [40, 4, 2], to: [3, 2, 5, 4])
        observeLists("broadcastStrides of ([3, 2], strides [1, 3]) to [5, 3, 2] and of ([2, 1, 4], strides [40, 4, 2]) to [3, 2, 5, 4]", [s, t])
        #expect(s == [0, 1, 3], "a transposed [3, 2] (strides [1, 3]) read as [5, 3, 2]: [0, 1, 3], got \(s)\(s == [0, 2, 1] ? " — those are fresh row-major strides: keep the operand's own strides" : "")")
        #expect(t == [0, 40, 0, 2], "got \(t)")

        // Drawn from the grading seed: another transposed matrix read with a new leading axis.
        var g = SeededGenerator(seed: graded(3202))
        let p = Int.random(in: 2...60, using: &g), q = Int.random(in: 2...60, using: &g), r = Int.random(in: 2...60, using: &g)
        let u = broadcastStrides(shape: [p, q], strides: [1, p], to: [r, p, q])
        observe("broadcastStrides(shape: [\(p), \(q)], strides: [1, \(p)], to: [\(r), \(p), \(q)])", u)
        #expect(u == [0, 1, p], "a transposed [\(p), \(q)] (strides [1, \(p)]) read as [\(r), \(p), \(q)]: [0, 1, \(p)], got \(u)\(u == [0, q, 1] ? " — those are fresh row-major strides: keep the operand's own strides" : "")")
    }

    @Test func aScalarReadAsAnything() {
        observeLists("broadcastStrides of a scalar read as [2, 3] and as []",
                     [broadcastStrides(shape: [], strides: [], to: [2, 3]), broadcastStrides(shape: [], strides: [], to: [])])
        #expect(broadcastStrides(shape: [], strides: [], to: [2, 3]) == [0, 0], "a scalar read as [2, 3] has strides [0, 0], got \(broadcastStrides(shape: [], strides: [], to: [2, 3]))")
        #expect(broadcastStrides(shape: [], strides: [], to: []) == [], "a scalar read as a scalar: []")

        // Drawn from the grading seed: a scalar read as other shapes, and a one-element vector with its own stride.
        var g = SeededGenerator(seed: graded(3203))
        let targets = (0..<3).map { _ in (0..<Int.random(in: 1...5, using: &g)).map { _ in Int.random(in: 1...5, using: &g) } }
        let scalars = targets.map { broadcastStrides(shape: [], strides: [], to: $0) }
        observeLists("broadcastStrides of a scalar read as \(targets)", scalars)
        #expect(scalars == targets.map { [Int](repeating: 0, count: $0.count) }, "a scalar read as \(targets) has strides of 0 only, one per axis; got \(scalars)")
        let n = Int.random(in: 2...9, using: &g), stride = Int.random(in: 1...9, using: &g)
        let vector = broadcastStrides(shape: [n], strides: [stride], to: [Int.random(in: 2...9, using: &g), n])
        observe("broadcastStrides of a [\(n)] vector with stride \(stride) read as a matrix of \(n) columns", vector)
        #expect(vector == [0, stride], "a [\(n)] vector with stride \(stride) read as a matrix: [0, \(stride)], got \(vector)")
    }

    @Test func newAxesGoInFront() {
        let s = broadcastStrides(shape: [4], strides: [1], to: [2, 3, 4])
        observe("broadcastStrides(shape: [4], strides: [1], to: [2, 3, 4])", s)
        #expect(s == [0, 0, 1], "[4] read as [2, 3, 4]: the new axes are the leading ones, got \(s)\(s == [1, 0, 0] ? " — the operand's axes line up with the target's LAST axes" : "")")

        // Drawn from the grading seed: another vector and stride, read with two new axes.
        var g = SeededGenerator(seed: graded(3204))
        let n = Int.random(in: 2...50, using: &g), stride = Int.random(in: 2...50, using: &g)
        let target = [Int.random(in: 2...50, using: &g), Int.random(in: 2...50, using: &g), n]
        let t = broadcastStrides(shape: [n], strides: [stride], to: target)
        observe("broadcastStrides(shape: [\(n)], strides: [\(stride)], to: \(target))", t)
        #expect(t == [0, 0, stride], "[\(n)] read as \(target): the new axes are the leading ones, expected [0, 0, \(stride)], got \(t)\(t == [stride, 0, 0] ? " — the operand's axes line up with the target's LAST axes" : "")")
    }

    @Test func zeroSizedTargets() {
        observeLists("broadcastStrides of ([1], strides [1]) to [0] and of ([0, 2], strides [2, 1]) to [3, 0, 2]",
                     [broadcastStrides(shape: [1], strides: [1], to: [0]), broadcastStrides(shape: [0, 2], strides: [2, 1], to: [3, 0, 2])])
        #expect(broadcastStrides(shape: [1], strides: [1], to: [0]) == [0], "[1] stretched to [0]: stride 0, got \(broadcastStrides(shape: [1], strides: [1], to: [0]))")
        #expect(broadcastStrides(shape: [0, 2], strides: [2, 1], to: [3, 0, 2]) == [0, 2, 1],
                "a [0, 2] operand is not stretched, only given a new axis; got \(broadcastStrides(shape: [0, 2], strides: [2, 1], to: [3, 0, 2]))")

        // Drawn from the grading seed: another empty operand with its own strides, given a new axis.
        var g = SeededGenerator(seed: graded(3205))
        let n = Int.random(in: 2...50, using: &g), k = Int.random(in: 1...20, using: &g), m = Int.random(in: 2...50, using: &g)
        let s = broadcastStrides(shape: [0, n], strides: [n * k, k], to: [m, 0, n])
        observe("broadcastStrides(shape: [0, \(n)], strides: [\(n * k), \(k)], to: [\(m), 0, \(n)])", s)
        #expect(s == [0, n * k, k], "a [0, \(n)] operand is not stretched, only given a new axis: expected [0, \(n * k), \(k)], got \(s)")
    }

    @Test func expandedViewsReadTheRightElements() {
        // A view with an offset and a gap, expanded along a new axis and a stretched one.
        let values = counting([2, 1, 3])
        let source = gapped(values, [2, 1, 3])
        let target = [4, 2, 5, 3]
        let view = source.expanded(to: target)
        expectForward("a [2, 1, 3] view (offset 1, stride 2) expanded to \(target)", view,
                     broadcastValues(values, [2, 1, 3], to: target), shape: target)
        observe("that expanded view shares the source's storage", view.storage === source.storage)
        #expect(view.storage === source.storage, "expanding is a view: nothing is copied")

        // Drawn from the grading seed: other values and sizes.
        var g = SeededGenerator(seed: graded(3206))
        let shape = [Int.random(in: 2...4, using: &g), 1, Int.random(in: 2...4, using: &g)]
        let seededValues = wholeNumbers(shape.reduce(1, *), -99...99, &g)
        let seededSource = gapped(seededValues, shape)
        let seededTarget = [Int.random(in: 2...4, using: &g), shape[0], Int.random(in: 2...5, using: &g), shape[2]]
        let seededView = seededSource.expanded(to: seededTarget)
        expectForward("a \(shape) view (offset 1, stride 2) holding \(seededValues) expanded to \(seededTarget)", seededView,
                     broadcastValues(seededValues, shape, to: seededTarget), shape: seededTarget)
        #expect(seededView.storage === seededSource.storage, "expanding is a view: nothing is copied")
    }

    @Test func randomLayouts() {
        var g = SeededGenerator(seed: graded(302))
        var results: [[Int]] = []
        for _ in 0..<300 {
            let rank = Int.random(in: 0...4, using: &g)
            let target = (0..<rank).map { _ in Int.random(in: 1...4, using: &g) }
            let shape = target.dropFirst(Int.random(in: 0...rank, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let strides = shape.map { _ in Int.random(in: 0...20, using: &g) }
            let lead = target.count - shape.count
            let expected = (0..<target.count).map { i in i < lead || shape[i - lead] != target[i] ? 0 : strides[i - lead] }
            let got = broadcastStrides(shape: shape, strides: strides, to: target)
            // A size-1 axis that is not stretched may keep its stride or take 0: only one element is read.
            let ok = got.count == expected.count && (0..<target.count).allSatisfy { i in
                got[i] == expected[i] || (target[i] == 1 && got[i] == 0) || (target[i] == 1 && i >= lead && got[i] == strides[i - lead])
            }
            // Observed with either of those two answers written as 0, so every correct solution agrees.
            results.append(got.indices.map { i in
                i < target.count && target[i] == 1 && (got[i] == 0 || (i >= lead && got[i] == strides[i - lead])) ? 0 : got[i]
            })
            #expect(ok, "broadcastStrides(shape: \(shape), strides: \(strides), to: \(target)) should be \(expected), got \(got)")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("broadcastStrides of 300 random layouts (a size-1 axis that is not stretched written as stride 0)", results)
    }
}

// MARK: - 3.3 forEachOffsetPair

@Suite struct Exercise_3_3 {
    /// Runs the walk and compares every visit with the reference; observes the visits, or
    /// (with `summary`) appends to it a few numbers that pin them down.
    private func check(_ shape: [Int], _ stridesA: [Int], _ offsetA: Int, _ stridesB: [Int], _ offsetB: Int,
                       summary: UnsafeMutablePointer<[Int]>? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var visits: [[Int]] = []
        forEachOffsetPair(shape: shape, stridesA: stridesA, offsetA: offsetA, stridesB: stridesB, offsetB: offsetB) { visits.append([$0, $1, $2]) }
        let label = "shape \(shape), A strides \(stridesA) offset \(offsetA), B strides \(stridesB) offset \(offsetB)"
        if let summary {
            // The count, then Σ v and Σ (k + 1)·v over the visits k for each of i, pa, pb.
            summary.pointee.append(visits.count)
            for column in 0..<3 {
                summary.pointee.append(visits.reduce(0) { $0 + $1[column] })
                summary.pointee.append(visits.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element[column] })
            }
        } else {
            observe("the visits [i, pa, pb] of forEachOffsetPair over \(label), one after another", visits.flatMap { $0 })
        }
        let expected = referenceVisits(shape: shape, stridesA: stridesA, offsetA: offsetA, stridesB: stridesB, offsetB: offsetB)
        guard visits != expected else { return true }
        if visits.count != expected.count {
            Issue.record("\(label): the body should run \(expected.count) times (once per element), it ran \(visits.count) times", sourceLocation: sourceLocation)
        } else if let k = visits.indices.first(where: { visits[$0] != expected[$0] }) {
            var hint = ""
            if visits[k][0] != expected[k][0] { hint = " — i counts the elements 0, 1, 2, … in row-major order" }
            else if k > 0 && visits[k][1] != expected[k][1] && visits[k][2] == expected[k][2] { hint = " — A's offset went wrong while B's did not: does A get its own strides?" }
            else if k > 0 { hint = " — when an axis rolls over to 0, take back strides[axis] · shape[axis] from that operand's offset (both operands!)" }
            Issue.record("\(label): visit \(k) (element \(rowMajorIndex(k, shape: shape))) should be [i, pa, pb] = \(expected[k]), got \(visits[k])\(hint)",
                         sourceLocation: sourceLocation)
        }
        return false
    }

    @Test func aScalarIsOneVisitAtTheOffsets() {
        _ = check([], [], 5, [], 9)

        // Drawn from the grading seed: other offsets.
        var g = SeededGenerator(seed: graded(3301))
        _ = check([], [], Int.random(in: 0...999, using: &g), [], Int.random(in: 0...999, using: &g))
    }

    @Test func zeroSizesMeanNoVisits() {
        _ = check([0], [1], 0, [1], 0)
        _ = check([3, 0], [1, 1], 2, [0, 1], 0)
        _ = check([0, 4, 2], [8, 2, 1], 0, [1, 0, 4], 3)

        // Drawn from the grading seed: a layout with a size-0 axis (no visits), then the same layout with that axis of size 1 to 3.
        var g = SeededGenerator(seed: graded(3302))
        var shape = (0..<Int.random(in: 2...3, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
        let stridesA = shape.map { _ in Int.random(in: 0...20, using: &g) }, stridesB = shape.map { _ in Int.random(in: 0...20, using: &g) }
        let offsetA = Int.random(in: 0...9, using: &g), offsetB = Int.random(in: 0...9, using: &g)
        let axis = Int.random(in: 0..<shape.count, using: &g)
        shape[axis] = 0
        _ = check(shape, stridesA, offsetA, stridesB, offsetB)
        shape[axis] = Int.random(in: 1...3, using: &g)
        _ = check(shape, stridesA, offsetA, stridesB, offsetB)
    }

    @Test func rank4RollsOverEveryAxis() {
        _ = check([2, 3, 2, 2], [12, 4, 2, 1], 0, [1, 2, 6, 12], 100)

        // Drawn from the grading seed: another rank-4 layout.
        var g = SeededGenerator(seed: graded(3303))
        let shape = (0..<4).map { _ in Int.random(in: 2...3, using: &g) }
        _ = check(shape, shape.map { _ in Int.random(in: 1...30, using: &g) }, Int.random(in: 0...9, using: &g),
                  shape.map { _ in Int.random(in: 1...30, using: &g) }, Int.random(in: 0...200, using: &g))
    }

    @Test func zeroStridesRepeatTheSameSlots() {
        _ = check([3, 4], [4, 1], 0, [0, 1], 7)   // B is a row read 3 times
        _ = check([3, 4], [0, 0], 2, [1, 3], 0)   // A is one number

        // Drawn from the grading seed: a row read several times, and one number read everywhere.
        var g = SeededGenerator(seed: graded(3304))
        let rows = Int.random(in: 2...5, using: &g), cols = Int.random(in: 2...5, using: &g)
        _ = check([rows, cols], [cols, 1], Int.random(in: 0...9, using: &g), [0, Int.random(in: 1...4, using: &g)], Int.random(in: 0...20, using: &g))
        _ = check([rows, cols], [0, 0], Int.random(in: 0...20, using: &g), [1, rows], Int.random(in: 0...9, using: &g))
    }

    @Test func sizeOneAxesAndOffsets() {
        _ = check([1, 5, 1], [99, 1, 42], 11, [5, 1, 1], 3)
        _ = check([7], [3], 1, [2], 4)

        // Drawn from the grading seed: size-1 axes with odd strides, and offsets.
        var g = SeededGenerator(seed: graded(3305))
        let n = Int.random(in: 2...7, using: &g)
        _ = check([1, n, 1], [Int.random(in: 10...99, using: &g), Int.random(in: 1...5, using: &g), Int.random(in: 10...99, using: &g)], Int.random(in: 0...20, using: &g),
                  [Int.random(in: 1...9, using: &g), Int.random(in: 1...5, using: &g), Int.random(in: 1...9, using: &g)], Int.random(in: 0...20, using: &g))
    }

    @Test func randomLayouts() {
        var g = SeededGenerator(seed: graded(303))
        var summary: [Int] = []
        for _ in 0..<300 {
            let shape = (0..<Int.random(in: 0...4, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let sa = shape.map { _ in Int.random(in: 0...30, using: &g) }, sb = shape.map { _ in Int.random(in: 0...30, using: &g) }
            guard check(shape, sa, Int.random(in: 0...9, using: &g), sb, Int.random(in: 0...9, using: &g), summary: &summary) else { return }
        }
        observe("for each of 300 random walks: the number of visits, then Σ v and Σ (k + 1)·v over the visits k for v = i, pa, pb", summary)
    }

    @Test func assignAndAddInPlaceThroughViews() {
        // Both walk two layouts with forEachOffsetPair.
        let m = Tensor.zeros([4, 3])
        let values = counting([3, 2])
        m.transposed().sliced(axis: 1, from: 1, step: 2).assign(gapped(values, [3, 2]))
        expectForward("a 4×3 zero matrix after writing a [3, 2] view into its rows 1 and 3", m,
                     [0, 0, 0, 1, 3, 5, 0, 0, 0, 2, 4, 6], shape: [4, 3])
        let t = Tensor.zeros([2, 3]).transposed()   // [3, 2], strides [1, 3]
        t.addInPlace(Tensor([10, 20]), scale: 2)     // a row, read with stride 0 down the rows
        expectForward("a transposed [3, 2] of zeros plus 2·[10, 20]", t, [20, 40, 20, 40, 20, 40], shape: [3, 2])

        // Drawn from the grading seed: other values, another row and another scale.
        var g = SeededGenerator(seed: graded(3306))
        let v = wholeNumbers(6, -99...99, &g)
        let n = Tensor.zeros([4, 3])
        n.transposed().sliced(axis: 1, from: 1, step: 2).assign(gapped(v, [3, 2]))
        expectForward("a 4×3 zero matrix after writing a [3, 2] view holding \(v) into its rows 1 and 3", n,
                     [0, 0, 0, v[0], v[2], v[4], 0, 0, 0, v[1], v[3], v[5]], shape: [4, 3])
        let row = wholeNumbers(2, -50...50, &g), scale = Float(Int.random(in: 2...5, using: &g))
        let u = Tensor.zeros([2, 3]).transposed()
        u.addInPlace(Tensor(row), scale: scale)
        expectForward("a transposed [3, 2] of zeros plus \(scale)·\(row)", u,
                     [Float](repeating: 0, count: 3).flatMap { _ in [scale * row[0], scale * row[1]] }, shape: [3, 2])
    }
}

// MARK: - 3.4 zipBroadcasting

@Suite struct Exercise_3_4 {
    @Test func operandOrderIsKept() {
        // a is not contiguous, so the general path runs.
        let a = gapped(counting([2, 3], from: 10), [2, 3]), b = Tensor([1, 2, 3])
        expectForward("a − b for a [2, 3] view and a row [3]", a - b, [9, 9, 9, 12, 12, 12], shape: [2, 3], hints: [.operandsSwapped, .broadcastRepeatPattern])
        expectForward("b − a", b - a, [-9, -9, -9, -12, -12, -12], shape: [2, 3], hints: [.operandsSwapped, .broadcastRepeatPattern])
        expectForward("a / b", a / b, [10, 5.5, 4, 13, 7, 5], shape: [2, 3])

        // Drawn from the grading seed: other values (a still a view with gaps).
        var g = SeededGenerator(seed: graded(3401))
        let av = wholeNumbers(6, -99...99, &g), bv = nonZeroWholeNumbers(3, &g)
        let x = gapped(av, [2, 3]), y = Tensor(bv)
        let wideB = broadcastValues(bv, [3], to: [2, 3])
        expectForward("a − b for a [2, 3] view holding \(av) and a row \(bv)", x - y, zip(av, wideB).map { $0 - $1 }, shape: [2, 3], hints: [.operandsSwapped, .broadcastRepeatPattern])
        expectForward("b − a for a row \(bv) and a [2, 3] view holding \(av)", y - x, zip(av, wideB).map { $1 - $0 }, shape: [2, 3], hints: [.operandsSwapped, .broadcastRepeatPattern])
        expectForward("a / b for a [2, 3] view holding \(av) and a row \(bv)", x / y, zip(av, wideB).map { $0 / $1 }, shape: [2, 3])
    }

    @Test func everyBroadcastPatternOfRank3() {
        // Every way of making some axes of [2, 3, 4] size 1, for both operands.
        let full = [2, 3, 4]
        for maskA in 0..<8 {
            for maskB in 0..<8 {
                let sa = full.indices.map { maskA >> $0 & 1 == 1 ? 1 : full[$0] }
                let sb = full.indices.map { maskB >> $0 & 1 == 1 ? 1 : full[$0] }
                let va = counting(sa).map { $0 * 1000 }, vb = counting(sb, from: 100)
                let a = gapped(va, sa)  // a view with gaps: the general path
                let target = zip(sa, sb).map { Swift.max($0, $1) }
                let expected = zip(broadcastValues(va, sa, to: target), broadcastValues(vb, sb, to: target)).map { $0 + $1 }
                let result = a + Tensor(vb, shape: sb)
                expectForward("a \(sa) (a view with gaps, holding 1000, 2000, …) + b \(sb) (holding 100, 101, …)", result, expected, shape: target)
                if result.shape != target || result.toArray() != expected { return }  // one failing case is enough to read
            }
        }

        // Drawn from the grading seed: three of those patterns with other values.
        var g = SeededGenerator(seed: graded(3402))
        for _ in 0..<3 {
            let maskA = Int.random(in: 0..<8, using: &g), maskB = Int.random(in: 0..<8, using: &g)
            let sa = full.indices.map { maskA >> $0 & 1 == 1 ? 1 : full[$0] }
            let sb = full.indices.map { maskB >> $0 & 1 == 1 ? 1 : full[$0] }
            let va = wholeNumbers(sa.reduce(1, *), -999...999, &g), vb = wholeNumbers(sb.reduce(1, *), -999...999, &g)
            let target = zip(sa, sb).map { Swift.max($0, $1) }
            let expected = zip(broadcastValues(va, sa, to: target), broadcastValues(vb, sb, to: target)).map { $0 + $1 }
            expectForward("a \(sa) (a view with gaps) + b \(sb), random whole numbers", gapped(va, sa) + Tensor(vb, shape: sb), expected, shape: target)
        }
    }

    @Test func differentRanksAndOffsets() {
        let a = gapped(counting([3, 1, 2]), [3, 1, 2])
        let b = Tensor(counting([5, 3, 4, 2], from: 0), shape: [5, 3, 4, 2]).sliced(axis: 0, from: 4)  // [1, 3, 4, 2] at offset 96
        let target = [1, 3, 4, 2]
        let expected = zip(broadcastValues(counting([3, 1, 2]), [3, 1, 2], to: target),
                           broadcastValues(counting([1, 3, 4, 2], from: 96), [1, 3, 4, 2], to: target)).map { $0 + $1 }
        expectForward("a [3, 1, 2] view + b [1, 3, 4, 2] (a slice at offset 96)", a + b, expected, shape: target)

        // Drawn from the grading seed: other sizes, values and slice start.
        var g = SeededGenerator(seed: graded(3403))
        let p = Int.random(in: 2...4, using: &g), q = Int.random(in: 2...3, using: &g), r = Int.random(in: 2...4, using: &g)
        let start = Int.random(in: 1...4, using: &g)
        let av = wholeNumbers(p * q, -99...99, &g), bv = wholeNumbers(5 * p * r * q, -99...99, &g)
        let x = gapped(av, [p, 1, q])
        let y = Tensor(bv, shape: [5, p, r, q]).sliced(axis: 0, from: start)   // [5 − start, p, r, q] at offset start·p·r·q
        let seededTarget = [5 - start, p, r, q]
        let seededExpected = zip(broadcastValues(av, [p, 1, q], to: seededTarget),
                                 Array(bv[(start * p * r * q)...])).map { $0 + $1 }
        expectForward("a [\(p), 1, \(q)] view + b \(seededTarget) (a slice at offset \(start * p * r * q)), random whole numbers", x + y, seededExpected, shape: seededTarget)
    }

    @Test func alreadyExpandedOperands() {
        // Stride-0 views going in: a row expanded to [3, 4], plus a column.
        let row = Tensor([1, 2, 3, 4]).expanded(to: [3, 4])
        let column = Tensor([10, 20, 30], shape: [3, 1])
        expectForward("an expanded row + a column", row + column, [11, 12, 13, 14, 21, 22, 23, 24, 31, 32, 33, 34], shape: [3, 4])

        // Drawn from the grading seed: another row and column.
        var g = SeededGenerator(seed: graded(3404))
        let m = Int.random(in: 2...5, using: &g), n = Int.random(in: 2...5, using: &g)
        let rv = wholeNumbers(n, -99...99, &g), cv = wholeNumbers(m, -99...99, &g)
        let expected = (0..<m).flatMap { i in (0..<n).map { j in rv[j] + cv[i] } }
        expectForward("a row \(rv) expanded to [\(m), \(n)] + a column \(cv)", Tensor(rv).expanded(to: [m, n]) + Tensor(cv, shape: [m, 1]), expected, shape: [m, n])
    }

    @Test func aViewAndOneNumber() {
        let a = gapped([1, 2, 3, 4], [2, 2])
        expectForward("a [2, 2] view · a scalar tensor", a * Tensor(scalar: 3), [3, 6, 9, 12], shape: [2, 2])
        expectForward("a scalar tensor − a [2, 2] view", Tensor(scalar: 10) - a, [9, 8, 7, 6], shape: [2, 2], hints: [.operandsSwapped, .broadcastRepeatPattern])

        // Drawn from the grading seed: other values and numbers.
        var g = SeededGenerator(seed: graded(3405))
        let v = wholeNumbers(4, -50...50, &g), k = Float(Int.random(in: 2...9, using: &g)), c = Float(Int.random(in: -99...99, using: &g))
        let x = gapped(v, [2, 2])
        expectForward("a [2, 2] view holding \(v) · a scalar tensor \(k)", x * Tensor(scalar: k), v.map { $0 * k }, shape: [2, 2])
        expectForward("a scalar tensor \(c) − a [2, 2] view holding \(v)", Tensor(scalar: c) - x, v.map { c - $0 }, shape: [2, 2], hints: [.operandsSwapped, .broadcastRepeatPattern])
    }

    @Test func theResultIsAFreshContiguousTensor() {
        let a = gapped(counting([2, 3]), [2, 3])
        let b = Tensor([1, 1, 1])
        let r = a + b
        observeLists("the strides and [offset] of a [2, 3] view + a row", [r.strides, [r.offset]])
        observe("the result is contiguous and has storage of its own", r.isContiguous && r.storage !== a.storage && r.storage !== b.storage)
        #expect(r.isContiguous && r.offset == 0 && r.strides == [3, 1], "the output is a new row-major tensor: got strides \(r.strides), offset \(r.offset)")
        #expect(r.storage !== a.storage && r.storage !== b.storage, "the output must not write into an operand's storage")
        expectForward("a [2, 3] view + ones, and the view left unchanged", a, counting([2, 3]), shape: [2, 3])

        // Drawn from the grading seed: another size and other values.
        var g = SeededGenerator(seed: graded(3406))
        let p = Int.random(in: 2...5, using: &g), q = Int.random(in: 2...5, using: &g)
        let av = wholeNumbers(p * q, -99...99, &g), bv = wholeNumbers(q, -99...99, &g)
        let x = gapped(av, [p, q]), y = Tensor(bv)
        let s = x + y
        observeLists("the strides and [offset] of a [\(p), \(q)] view + a row", [s.strides, [s.offset]])
        #expect(s.isContiguous && s.offset == 0 && s.strides == [q, 1] && s.storage !== x.storage && s.storage !== y.storage,
                "the output is a new row-major tensor with storage of its own: expected strides [\(q), 1], offset 0, got strides \(s.strides), offset \(s.offset)")
        expectForward("a [\(p), \(q)] view holding \(av) + a row \(bv)", s, zip(av, broadcastValues(bv, [q], to: [p, q])).map { $0 + $1 }, shape: [p, q])
        expectForward("that view, left unchanged", x, av, shape: [p, q])
    }

    @Test func comparisonsAndMasks() {
        let x = gapped([1, 5, 3, 7], [2, 2]), y = Tensor([4, 4])
        expectForward("x .> y", x .> y, [0, 1, 0, 1], shape: [2, 2], hints: [.comparisonSwapped, .broadcastRepeatPattern])
        expectForward("x .<= y", x .<= y, [1, 0, 1, 0], shape: [2, 2], hints: [.comparisonSwapped, .broadcastRepeatPattern])
        expectForward("x .== x", x .== x, [1, 1, 1, 1], shape: [2, 2])

        // Drawn from the grading seed: other values (with ties) and another row.
        var g = SeededGenerator(seed: graded(3407))
        let n = Int.random(in: 2...4, using: &g)
        let xv = wholeNumbers(2 * n, -3...3, &g), yv = wholeNumbers(n, -3...3, &g)
        let u = gapped(xv, [2, n]), w = Tensor(yv)
        let wide = broadcastValues(yv, [n], to: [2, n])
        expectForward("x .> y for x = \(xv) (a [2, \(n)] view) and y = \(yv)", u .> w, zip(xv, wide).map { $0 > $1 ? 1 : 0 }, shape: [2, n], hints: [.comparisonSwapped, .broadcastRepeatPattern])
        expectForward("x .<= y for x = \(xv) (a [2, \(n)] view) and y = \(yv)", u .<= w, zip(xv, wide).map { $0 <= $1 ? 1 : 0 }, shape: [2, n], hints: [.comparisonSwapped, .broadcastRepeatPattern])
        expectForward("x .== y for x = \(xv) (a [2, \(n)] view) and y = \(yv)", u .== w, zip(xv, wide).map { $0 == $1 ? 1 : 0 }, shape: [2, n])
    }
}

// MARK: - 3.5 where

@Suite struct Exercise_3_5 {
    @Test func theOtherBranchMayHoldNaN() {
        let mask = Tensor([1, 0, 1, 0])
        let a = Tensor([1, .nan, 3, .infinity]), b = Tensor([.nan, 2, -.infinity, 4])
        expectForward("where(mask, a, b) with NaN and ∞ in the elements not picked", Tensor.where(mask, a, b), [1, 2, 3, 4], shape: [4],
                     hints: [.whereBlendedNaN])

        // Drawn from the grading seed: another mask, with NaN or ∞ in every element not picked.
        var g = SeededGenerator(seed: graded(3501))
        let n = Int.random(in: 4...8, using: &g)
        let picks = (0..<n).map { _ in Bool.random(using: &g) }
        let poison: [Float] = [.nan, .infinity, -.infinity]
        let values = wholeNumbers(n, -99...99, &g)
        let av = (0..<n).map { picks[$0] ? values[$0] : poison[Int.random(in: 0..<3, using: &g)] }
        let bv = (0..<n).map { picks[$0] ? poison[Int.random(in: 0..<3, using: &g)] : values[$0] }
        expectForward("where(\(picks.map { $0 ? 1 : 0 }), a, b) with NaN and ∞ in the elements not picked", Tensor.where(Tensor(picks.map { $0 ? 1 : 0 }), Tensor(av), Tensor(bv)),
                     values, shape: [n], hints: [.whereBlendedNaN])
    }

    @Test func allThreeBroadcastDifferently() {
        let condition = Tensor([1, 0], shape: [2, 1, 1])
        let a = Tensor([1, 2, 3], shape: [3, 1]), b = Tensor([-1, -2, -3, -4])
        let target = [2, 3, 4]
        let expected = indicesOf(target).map { i -> Float in i[0] == 0 ? Float(i[1] + 1) : -Float(i[2] + 1) }
        expectForward("where(condition [2, 1, 1], a [3, 1], b [4])", Tensor.where(condition, a, b), expected, shape: target)

        // Drawn from the grading seed: other sizes, condition and values.
        var g = SeededGenerator(seed: graded(3502))
        let p = Int.random(in: 2...4, using: &g), q = Int.random(in: 2...5, using: &g)
        let cv: [Float] = Bool.random(using: &g) ? [1, 0] : [0, 1]
        let av = wholeNumbers(p, 1...99, &g), bv = wholeNumbers(q, -99 ... -1, &g)
        let seededTarget = [2, p, q]
        let seededExpected = indicesOf(seededTarget).map { i -> Float in cv[i[0]] != 0 ? av[i[1]] : bv[i[2]] }
        expectForward("where(condition \(cv) as [2, 1, 1], a \(av) as [\(p), 1], b \(bv))",
                     Tensor.where(Tensor(cv, shape: [2, 1, 1]), Tensor(av, shape: [p, 1]), Tensor(bv)), seededExpected, shape: seededTarget)
    }

    @Test func anyNonZeroCountsAsTrue() {
        let picked = Tensor.where(Tensor([2.5, -1, 0, 0.001]), Tensor([1, 1, 1, 1]), Tensor([0, 0, 0, 0]))
        expectForward("where with mask [2.5, −1, 0, 0.001]", picked, [1, 1, 0, 1], shape: [4])

        // Drawn from the grading seed: another mask of zeros, tiny and negative numbers.
        var g = SeededGenerator(seed: graded(3503))
        let mask = (0..<8).map { _ -> Float in
            switch Int.random(in: 0..<4, using: &g) {
            case 0: return 0
            case 1: return Float(Int.random(in: 1...9, using: &g)) * 1e-3
            case 2: return -Float(Int.random(in: 1...99, using: &g))
            default: return Float(Int.random(in: 1...99, using: &g)) / 4
            }
        }
        let av = wholeNumbers(8, 1...99, &g), bv = wholeNumbers(8, -99 ... -1, &g)
        expectForward("where with mask \(mask), a \(av), b \(bv)", Tensor.where(Tensor(mask), Tensor(av), Tensor(bv)),
                     (0..<8).map { mask[$0] != 0 ? av[$0] : bv[$0] }, shape: [8])
    }

    @Test func nonContiguousOperands() {
        let a = gapped(counting([2, 3]), [2, 3])
        let b = Tensor(counting([3, 2], from: 100), shape: [3, 2]).transposed()  // [2, 3]: 100 102 104 / 101 103 105
        let mask = Tensor([1, 0, 1])
        expectForward("where(a row mask, a view, a transposed view)", Tensor.where(mask, a, b), [1, 102, 3, 4, 103, 6], shape: [2, 3])

        // Drawn from the grading seed: other values, another width and another row mask.
        var g = SeededGenerator(seed: graded(3504))
        let n = Int.random(in: 2...6, using: &g)
        let av = wholeNumbers(2 * n, 1...99, &g), bv = wholeNumbers(2 * n, -99 ... -1, &g)   // b stored as [n, 2]
        let mv = (0..<n).map { _ in Float(Int.random(in: 0...1, using: &g)) }
        var expected: [Float] = []
        for i in 0..<2 {
            for j in 0..<n { expected.append(mv[j] != 0 ? av[i * n + j] : bv[j * 2 + i]) }
        }
        expectForward("where(row mask \(mv), a [2, \(n)] view, a transposed [\(n), 2])",
                     Tensor.where(Tensor(mv), gapped(av, [2, n]), Tensor(bv, shape: [n, 2]).transposed()), expected, shape: [2, n])
    }

    @Test func pickingFromScalars() {
        let x = gapped([-2, 0, 3, -4], [2, 2])
        expectForward("where(x .> 0, 1, −1)", Tensor.where(x .> 0, Tensor(scalar: 1), Tensor(scalar: -1)), [-1, -1, 1, -1], shape: [2, 2])

        // Drawn from the grading seed: other values (0 included) and other scalars.
        var g = SeededGenerator(seed: graded(3505))
        let v = wholeNumbers(6, -3...3, &g)
        let yes = Float(Int.random(in: 1...99, using: &g)), no = -Float(Int.random(in: 1...99, using: &g))
        expectForward("where(x .> 0, \(yes), \(no)) for x = \(v) (a [2, 3] view)",
                     Tensor.where(gapped(v, [2, 3]) .> 0, Tensor(scalar: yes), Tensor(scalar: no)), v.map { $0 > 0 ? yes : no }, shape: [2, 3])
    }
}

// MARK: - 3.6 isTrailingBlock

@Suite struct Exercise_3_6 {
    /// Random (small, big) pairs, some repeating one contiguous block and some not.
    private func randomPairs(_ count: Int, _ g: inout SeededGenerator) -> [([Int], [Int])] {
        (0..<count).map { _ in
            let big = (0..<Int.random(in: 2...4, using: &g)).map { _ in Int.random(in: 2...5, using: &g) }
            var small = Array(big.suffix(Int.random(in: 1...big.count, using: &g)))
            for i in small.indices where Int.random(in: 0..<3, using: &g) == 0 { small[i] = 1 }
            if small.count < big.count && Bool.random(using: &g) { small.insert(1, at: 0) }
            return (small, big)
        }
    }

    /// Checks `isTrailingBlock` on `pairs` against a walk over every element, observing the answers.
    private func checkPairs(_ pairs: [([Int], [Int])], sourceLocation: SourceLocation = #_sourceLocation) {
        let answers = pairs.map { isTrailingBlock($0.0, of: $0.1) }
        observeAnswers("isTrailingBlock for (small, big) in \(pairs)", answers)
        for ((small, big), got) in zip(pairs, answers) {
            let expected = referenceTrailingBlock(small, of: big)
            #expect(got == expected, "\(small) broadcast to \(big) \(expected ? "repeats one contiguous block: should be true" : "stretches an axis that is not a leading one: should be false")",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func blocksThatRepeat() {
        let yes: [([Int], [Int])] = [([4], [3, 4]), ([1, 4], [3, 4]), ([1, 1, 4], [2, 3, 4]), ([3, 4], [2, 3, 4]),
                                     ([2, 3, 4], [2, 3, 4]), ([], [2, 3]), ([1], [5]), ([1, 1], [2, 2])]
        observeAnswers("isTrailingBlock for (small, big) in \(yes)", yes.map { isTrailingBlock($0.0, of: $0.1) })
        for (small, big) in yes {
            #expect(isTrailingBlock(small, of: big), "\(small) broadcast to \(big) repeats one contiguous block: should be true")
        }

        // Drawn from the grading seed: more pairs, some of which repeat one block.
        var g = SeededGenerator(seed: graded(3601))
        checkPairs(randomPairs(12, &g))
    }

    @Test func patternsThatDoNot() {
        let no: [([Int], [Int])] = [([4, 1], [4, 3]), ([2, 1, 4], [2, 3, 4]), ([3, 1], [2, 3, 4]), ([1, 3, 1], [2, 3, 4]),
                                    ([2, 1], [2, 3]), ([3, 1, 1], [3, 2, 2])]
        observeAnswers("isTrailingBlock for (small, big) in \(no)", no.map { isTrailingBlock($0.0, of: $0.1) })
        for (small, big) in no {
            let got = isTrailingBlock(small, of: big)
            #expect(!got, "\(small) broadcast to \(big) stretches an axis that is not a leading one: should be false\(small.last == big.last ? " — matching the last axis is not enough: every axis after the leading 1s must match" : "")")
        }

        // Drawn from the grading seed: more pairs, many of which stretch an inner axis.
        var g = SeededGenerator(seed: graded(3602))
        checkPairs(randomPairs(12, &g))
    }

    @Test func biasAddsOfManyShapes() {
        var g = SeededGenerator(seed: graded(306))
        for (xShape, bShape) in [([64, 10], [10]), ([8, 4, 5], [4, 5]), ([2, 3], [1, 3]), ([5, 2, 3], [1, 1, 3]), ([3, 7], [3, 1]), ([2, 3, 4], [3, 1])] {
            let xv = (0..<xShape.reduce(1, *)).map { _ in Float(Int.random(in: -50...50, using: &g)) }
            let bv = (0..<bShape.reduce(1, *)).map { _ in Float(Int.random(in: -50...50, using: &g)) }
            let expected = zip(xv, broadcastValues(bv, bShape, to: xShape)).map { $0 + $1 }
            expectForward("x \(xShape) + b \(bShape), both contiguous", Tensor(xv, shape: xShape) + Tensor(bv, shape: bShape), expected,
                         shape: xShape)
        }
    }

    @Test func matrixTimesRowInBothOrders() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), w = Tensor([2, 3, 4])
        expectForward("x [2, 3] · w [3]", x * w, [2, 6, 12, 8, 15, 24], shape: [2, 3])
        expectForward("x [2, 3] − w [3]", x - w, [-1, -1, -1, 2, 2, 2], shape: [2, 3], hints: [.operandsSwapped, .broadcastRepeatPattern])
        expectForward("w [3] − x [2, 3]", w - x, [1, 1, 1, -2, -2, -2], shape: [2, 3], hints: [.operandsSwapped, .broadcastRepeatPattern])

        // Drawn from the grading seed: another contiguous matrix and row.
        var g = SeededGenerator(seed: graded(3603))
        let p = Int.random(in: 2...5, using: &g), q = Int.random(in: 2...5, using: &g)
        let xv = wholeNumbers(p * q, -50...50, &g), wv = wholeNumbers(q, -50...50, &g)
        let u = Tensor(xv, shape: [p, q]), v = Tensor(wv)
        let wide = broadcastValues(wv, [q], to: [p, q])
        expectForward("x [\(p), \(q)] · w \(wv), x holding \(xv)", u * v, zip(xv, wide).map { $0 * $1 }, shape: [p, q])
        expectForward("x [\(p), \(q)] − w \(wv), x holding \(xv)", u - v, zip(xv, wide).map { $0 - $1 }, shape: [p, q], hints: [.operandsSwapped, .broadcastRepeatPattern])
        expectForward("w \(wv) − x [\(p), \(q)], x holding \(xv)", v - u, zip(xv, wide).map { $1 - $0 }, shape: [p, q], hints: [.operandsSwapped, .broadcastRepeatPattern])
    }
}
