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

// MARK: - 3.1 broadcastShapes

@Suite struct Exercise_3_1 {
    @Test func scalarsBroadcastToAnything() {
        #expect(broadcastShapes([], []) == [], "two scalars give a scalar, got \(broadcastShapes([], []))")
        #expect(broadcastShapes([3], []) == [3], "got \(broadcastShapes([3], []))")
        #expect(broadcastShapes([4, 1], []) == [4, 1], "a scalar changes nothing, got \(broadcastShapes([4, 1], []))")
    }

    @Test func sizeOneStretchesEvenToZero() {
        let s = broadcastShapes([1], [0])
        #expect(s == [0], "a size 1 stretches to any size, 0 included: [1] with [0] is [0], got \(s)\(s == [1] ? " — max(1, 0) is 1: take the other size whenever one size is 1" : "")")
        #expect(broadcastShapes([2, 0], [2, 1]) == [2, 0], "got \(broadcastShapes([2, 0], [2, 1]))")
        #expect(broadcastShapes([1, 3], [0, 1]) == [0, 3], "got \(broadcastShapes([1, 3], [0, 1]))")
    }

    @Test func ranksThatDifferByMoreThanOne() {
        let s = broadcastShapes([8, 1, 6, 1], [7, 1, 5])
        #expect(s == [8, 7, 6, 5], "NumPy's example: [8, 1, 6, 1] with [7, 1, 5] is [8, 7, 6, 5], got \(s)")
        let t = broadcastShapes([3], [2, 1, 1, 3])
        #expect(t == [2, 1, 1, 3], "[3] lines up with the LAST axis of [2, 1, 1, 3], got \(t)\(t.first == 3 ? " — shapes align at their last axis, not their first" : "")")
    }

    @Test func orderDoesNotMatter() {
        let pairs: [([Int], [Int])] = [([3, 1], [4]), ([5, 1, 4], [3, 1]), ([1], [2, 2]), ([2, 1, 3], [1, 4, 1])]
        for (a, b) in pairs {
            #expect(broadcastShapes(a, b) == broadcastShapes(b, a),
                    "broadcastShapes(\(a), \(b)) = \(broadcastShapes(a, b)) but broadcastShapes(\(b), \(a)) = \(broadcastShapes(b, a)): the rule is symmetric")
        }
    }

    @Test func randomShapesAgreeWithTheRule() throws {
        var g = SeededGenerator(seed: 301)
        for _ in 0..<400 {
            let rank = Int.random(in: 0...5, using: &g)
            let target = (0..<rank).map { _ in Int.random(in: 0...4, using: &g) }
            let a = target.dropFirst(Int.random(in: 0...rank, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let b = target.dropFirst(Int.random(in: 0...rank, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let expected = try #require(try broadcastShapesOrNil(a, b))
            let got = broadcastShapes(a, b)
            #expect(got == expected, "broadcastShapes(\(a), \(b)) should be \(expected), got \(got)")
            if got != expected { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 3.2 broadcastStrides

@Suite struct Exercise_3_2 {
    @Test func aStretchedAxisGetsZeroWhateverItsStride() {
        let s = broadcastStrides(shape: [1, 3], strides: [99, 1], to: [4, 3])
        #expect(s == [0, 1], "shape [1, 3] with strides [99, 1] read as [4, 3]: the stretched axis must get stride 0, got \(s)\(s == [99, 1] ? " — keeping 99 would step 99 slots per row, past the data" : "")")
    }

    @Test func nonContiguousStridesAreKept() {
        let s = broadcastStrides(shape: [3, 2], strides: [1, 3], to: [5, 3, 2])
        #expect(s == [0, 1, 3], "a transposed [3, 2] (strides [1, 3]) read as [5, 3, 2]: [0, 1, 3], got \(s)\(s == [0, 2, 1] ? " — those are fresh row-major strides: keep the operand's own strides" : "")")
        let t = broadcastStrides(shape: [2, 1, 4], strides: [40, 4, 2], to: [3, 2, 5, 4])
        #expect(t == [0, 40, 0, 2], "got \(t)")
    }

    @Test func aScalarReadAsAnything() {
        #expect(broadcastStrides(shape: [], strides: [], to: [2, 3]) == [0, 0], "a scalar read as [2, 3] has strides [0, 0], got \(broadcastStrides(shape: [], strides: [], to: [2, 3]))")
        #expect(broadcastStrides(shape: [], strides: [], to: []) == [], "a scalar read as a scalar: []")
    }

    @Test func newAxesGoInFront() {
        let s = broadcastStrides(shape: [4], strides: [1], to: [2, 3, 4])
        #expect(s == [0, 0, 1], "[4] read as [2, 3, 4]: the new axes are the leading ones, got \(s)\(s == [1, 0, 0] ? " — the operand's axes line up with the target's LAST axes" : "")")
    }

    @Test func zeroSizedTargets() {
        #expect(broadcastStrides(shape: [1], strides: [1], to: [0]) == [0], "[1] stretched to [0]: stride 0, got \(broadcastStrides(shape: [1], strides: [1], to: [0]))")
        #expect(broadcastStrides(shape: [0, 2], strides: [2, 1], to: [3, 0, 2]) == [0, 2, 1],
                "a [0, 2] operand is not stretched, only given a new axis; got \(broadcastStrides(shape: [0, 2], strides: [2, 1], to: [3, 0, 2]))")
    }

    @Test func expandedViewsReadTheRightElements() {
        // A view with an offset and a gap, expanded along a new axis and a stretched one.
        let values = counting([2, 1, 3])
        let source = gapped(values, [2, 1, 3])
        let target = [4, 2, 5, 3]
        let view = source.expanded(to: target)
        expectForward("a [2, 1, 3] view (offset 1, stride 2) expanded to \(target)", view,
                     broadcastValues(values, [2, 1, 3], to: target), shape: target)
        #expect(view.storage === source.storage, "expanding is a view: nothing is copied")
    }

    @Test func randomLayouts() {
        var g = SeededGenerator(seed: 302)
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
            #expect(ok, "broadcastStrides(shape: \(shape), strides: \(strides), to: \(target)) should be \(expected), got \(got)")
            if !ok { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 3.3 forEachOffsetPair

@Suite struct Exercise_3_3 {
    /// Runs the walk and compares every visit with the reference.
    private func check(_ shape: [Int], _ stridesA: [Int], _ offsetA: Int, _ stridesB: [Int], _ offsetB: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var visits: [[Int]] = []
        forEachOffsetPair(shape: shape, stridesA: stridesA, offsetA: offsetA, stridesB: stridesB, offsetB: offsetB) { visits.append([$0, $1, $2]) }
        let expected = referenceVisits(shape: shape, stridesA: stridesA, offsetA: offsetA, stridesB: stridesB, offsetB: offsetB)
        guard visits != expected else { return true }
        let label = "shape \(shape), A strides \(stridesA) offset \(offsetA), B strides \(stridesB) offset \(offsetB)"
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
    }

    @Test func zeroSizesMeanNoVisits() {
        _ = check([0], [1], 0, [1], 0)
        _ = check([3, 0], [1, 1], 2, [0, 1], 0)
        _ = check([0, 4, 2], [8, 2, 1], 0, [1, 0, 4], 3)
    }

    @Test func rank4RollsOverEveryAxis() {
        _ = check([2, 3, 2, 2], [12, 4, 2, 1], 0, [1, 2, 6, 12], 100)
    }

    @Test func zeroStridesRepeatTheSameSlots() {
        _ = check([3, 4], [4, 1], 0, [0, 1], 7)   // B is a row read 3 times
        _ = check([3, 4], [0, 0], 2, [1, 3], 0)   // A is one number
    }

    @Test func sizeOneAxesAndOffsets() {
        _ = check([1, 5, 1], [99, 1, 42], 11, [5, 1, 1], 3)
        _ = check([7], [3], 1, [2], 4)
    }

    @Test func randomLayouts() {
        var g = SeededGenerator(seed: 303)
        for _ in 0..<300 {
            let shape = (0..<Int.random(in: 0...4, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let sa = shape.map { _ in Int.random(in: 0...30, using: &g) }, sb = shape.map { _ in Int.random(in: 0...30, using: &g) }
            guard check(shape, sa, Int.random(in: 0...9, using: &g), sb, Int.random(in: 0...9, using: &g)) else { return }
        }
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
    }

    @Test func differentRanksAndOffsets() {
        let a = gapped(counting([3, 1, 2]), [3, 1, 2])
        let b = Tensor(counting([5, 3, 4, 2], from: 0), shape: [5, 3, 4, 2]).sliced(axis: 0, from: 4)  // [1, 3, 4, 2] at offset 96
        let target = [1, 3, 4, 2]
        let expected = zip(broadcastValues(counting([3, 1, 2]), [3, 1, 2], to: target),
                           broadcastValues(counting([1, 3, 4, 2], from: 96), [1, 3, 4, 2], to: target)).map { $0 + $1 }
        expectForward("a [3, 1, 2] view + b [1, 3, 4, 2] (a slice at offset 96)", a + b, expected, shape: target)
    }

    @Test func alreadyExpandedOperands() {
        // Stride-0 views going in: a row expanded to [3, 4], plus a column.
        let row = Tensor([1, 2, 3, 4]).expanded(to: [3, 4])
        let column = Tensor([10, 20, 30], shape: [3, 1])
        expectForward("an expanded row + a column", row + column, [11, 12, 13, 14, 21, 22, 23, 24, 31, 32, 33, 34], shape: [3, 4])
    }

    @Test func aViewAndOneNumber() {
        let a = gapped([1, 2, 3, 4], [2, 2])
        expectForward("a [2, 2] view · a scalar tensor", a * Tensor(scalar: 3), [3, 6, 9, 12], shape: [2, 2])
        expectForward("a scalar tensor − a [2, 2] view", Tensor(scalar: 10) - a, [9, 8, 7, 6], shape: [2, 2], hints: [.operandsSwapped, .broadcastRepeatPattern])
    }

    @Test func theResultIsAFreshContiguousTensor() {
        let a = gapped(counting([2, 3]), [2, 3])
        let b = Tensor([1, 1, 1])
        let r = a + b
        #expect(r.isContiguous && r.offset == 0 && r.strides == [3, 1], "the output is a new row-major tensor: got strides \(r.strides), offset \(r.offset)")
        #expect(r.storage !== a.storage && r.storage !== b.storage, "the output must not write into an operand's storage")
        expectForward("a [2, 3] view + ones, and the view left unchanged", a, counting([2, 3]), shape: [2, 3])
    }

    @Test func comparisonsAndMasks() {
        let x = gapped([1, 5, 3, 7], [2, 2]), y = Tensor([4, 4])
        expectForward("x .> y", x .> y, [0, 1, 0, 1], shape: [2, 2], hints: [.comparisonSwapped, .broadcastRepeatPattern])
        expectForward("x .<= y", x .<= y, [1, 0, 1, 0], shape: [2, 2], hints: [.comparisonSwapped, .broadcastRepeatPattern])
        expectForward("x .== x", x .== x, [1, 1, 1, 1], shape: [2, 2])
    }
}

// MARK: - 3.5 where

@Suite struct Exercise_3_5 {
    @Test func theOtherBranchMayHoldNaN() {
        let mask = Tensor([1, 0, 1, 0])
        let a = Tensor([1, .nan, 3, .infinity]), b = Tensor([.nan, 2, -.infinity, 4])
        expectForward("where(mask, a, b) with NaN and ∞ in the elements not picked", Tensor.where(mask, a, b), [1, 2, 3, 4], shape: [4],
                     hints: [.whereBlendedNaN])
    }

    @Test func allThreeBroadcastDifferently() {
        let condition = Tensor([1, 0], shape: [2, 1, 1])
        let a = Tensor([1, 2, 3], shape: [3, 1]), b = Tensor([-1, -2, -3, -4])
        let target = [2, 3, 4]
        let expected = indicesOf(target).map { i -> Float in i[0] == 0 ? Float(i[1] + 1) : -Float(i[2] + 1) }
        expectForward("where(condition [2, 1, 1], a [3, 1], b [4])", Tensor.where(condition, a, b), expected, shape: target)
    }

    @Test func anyNonZeroCountsAsTrue() {
        let picked = Tensor.where(Tensor([2.5, -1, 0, 0.001]), Tensor([1, 1, 1, 1]), Tensor([0, 0, 0, 0]))
        expectForward("where with mask [2.5, −1, 0, 0.001]", picked, [1, 1, 0, 1], shape: [4])
    }

    @Test func nonContiguousOperands() {
        let a = gapped(counting([2, 3]), [2, 3])
        let b = Tensor(counting([3, 2], from: 100), shape: [3, 2]).transposed()  // [2, 3]: 100 102 104 / 101 103 105
        let mask = Tensor([1, 0, 1])
        expectForward("where(a row mask, a view, a transposed view)", Tensor.where(mask, a, b), [1, 102, 3, 4, 103, 6], shape: [2, 3])
    }

    @Test func pickingFromScalars() {
        let x = gapped([-2, 0, 3, -4], [2, 2])
        expectForward("where(x .> 0, 1, −1)", Tensor.where(x .> 0, Tensor(scalar: 1), Tensor(scalar: -1)), [-1, -1, 1, -1], shape: [2, 2])
    }
}

// MARK: - 3.6 isTrailingBlock

@Suite struct Exercise_3_6 {
    @Test func blocksThatRepeat() {
        let yes: [([Int], [Int])] = [([4], [3, 4]), ([1, 4], [3, 4]), ([1, 1, 4], [2, 3, 4]), ([3, 4], [2, 3, 4]),
                                     ([2, 3, 4], [2, 3, 4]), ([], [2, 3]), ([1], [5]), ([1, 1], [2, 2])]
        for (small, big) in yes {
            #expect(isTrailingBlock(small, of: big), "\(small) broadcast to \(big) repeats one contiguous block: should be true")
        }
    }

    @Test func patternsThatDoNot() {
        let no: [([Int], [Int])] = [([4, 1], [4, 3]), ([2, 1, 4], [2, 3, 4]), ([3, 1], [2, 3, 4]), ([1, 3, 1], [2, 3, 4]),
                                    ([2, 1], [2, 3]), ([3, 1, 1], [3, 2, 2])]
        for (small, big) in no {
            let got = isTrailingBlock(small, of: big)
            #expect(!got, "\(small) broadcast to \(big) stretches an axis that is not a leading one: should be false\(small.last == big.last ? " — matching the last axis is not enough: every axis after the leading 1s must match" : "")")
        }
    }

    @Test func biasAddsOfManyShapes() {
        var g = SeededGenerator(seed: 306)
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
    }
}
