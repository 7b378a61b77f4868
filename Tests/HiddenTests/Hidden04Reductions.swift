import Foundation
import Testing
import Kindling

// Hidden tests of lesson 4 (reductions, argmax, logsumexp, softmax). The
// grader maps each test to its exercise by the suite name `Exercise_4_N`; each
// suite uses only its own exercise and earlier ones. They probe what the
// visible tests leave out: zero sizes, size-1 axes, axes given in any order,
// non-contiguous inputs, long sums, ties and NaN, ±∞ and rows that overflow.

// MARK: - The tests' own reference (independent of the exercises)

/// The rows along `axis` of row-major `values` of `shape`, in the order of the kept positions.
private func rowsAlong(_ values: [Float], _ shape: [Int], axis: Int) -> [[Float]] {
    var kept = shape
    kept[axis] = 1
    return indicesOf(kept).map { index in
        (0..<shape[axis]).map { r in
            var full = index
            full[axis] = r
            return values[position(full, shape)]
        }
    }
}

/// A permuted (non-contiguous) view that reads `values` (row-major, `shape`):
/// the reverse of a contiguous tensor of the reversed shape.
private func reversedView(_ values: [Float], _ shape: [Int]) -> Tensor {
    let order = Array(shape.indices.reversed())
    let baseShape = Array(shape.reversed())
    var stored = [Float](repeating: 0, count: values.count)
    for index in indicesOf(shape) { stored[position(Array(index.reversed()), baseShape)] = values[position(index, shape)] }
    return Tensor(stored, shape: baseShape).permuted(order)
}

/// Draws small whole numbers, so sums are exact and argmax sees ties.
private func wholeNumbers(_ count: Int, _ g: inout SeededGenerator, _ range: ClosedRange<Int> = -5...5) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: range, using: &g)) }
}

extension MistakeHint {
    /// Overflowed: an infinity (or NaN) where a finite value was expected.
    static let overflowed = MistakeHint(message: "∞ or NaN where a finite number was expected: exp overflows above x ≈ 88.7 and underflows to 0 below x ≈ −103 in Float — subtract the maximum m first and add it back after the log: log Σ eˣ = m + log Σ eˣ⁻ᵐ.") { a, sa, e, se in
        sa == se && zip(a, e).contains { !$0.isFinite && $1.isFinite }
    }
    /// A NaN where −∞ (or +∞) was expected: m − m for an infinite maximum.
    static let infinityMinusInfinity = MistakeHint(message: "NaN where ±∞ was expected: when the maximum m is itself infinite (a row of −∞), x − m is ∞ − ∞ = NaN. Shift by m only when it is finite (shift by 0 otherwise).") { a, sa, e, se in
        sa == se && zip(a, e).contains { $0.isNaN && $1.isInfinite }
    }
    /// The last index of a tie instead of the first.
    static let lastOfTies = MistakeHint(message: "an index one or more too far along: with ties the FIRST index wins — replace the best only when strictly better (>, not >=).") { a, sa, e, se in
        sa == se && zip(a, e).contains { $0 > $1 } && zip(a, e).allSatisfy { $0 >= $1 }
    }
}

// MARK: - 4.1 reducedShape

@Suite struct Exercise_4_1 {
    @Test func axesInAnyOrder() {
        let s = reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: false)
        #expect(s == [2, 4], "reducing axes [3, 1] of [2, 3, 4, 5] leaves [2, 4], got \(s)\(s == [2, 3] || s == [3, 5] ? " — removing axes one at a time by index shifts the later ones: decide per axis whether it is reduced" : "")")
        #expect(reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: true) == [2, 1, 4, 1], "got \(reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: true))")
    }

    @Test func noAxesChangesNothing() {
        #expect(reducedShape([2, 3], axes: [], keepdim: false) == [2, 3], "reducing no axis keeps the shape, got \(reducedShape([2, 3], axes: [], keepdim: false))")
        #expect(reducedShape([], axes: [], keepdim: true) == [], "a scalar stays a scalar, got \(reducedShape([], axes: [], keepdim: true))")
    }

    @Test func zeroAndOneSizes() {
        #expect(reducedShape([2, 0, 3], axes: [1], keepdim: false) == [2, 3], "got \(reducedShape([2, 0, 3], axes: [1], keepdim: false))")
        #expect(reducedShape([2, 0, 3], axes: [1], keepdim: true) == [2, 1, 3],
                "a reduced axis becomes 1 even when it was 0 (the sum of nothing is one number), got \(reducedShape([2, 0, 3], axes: [1], keepdim: true))")
        #expect(reducedShape([1, 4, 1], axes: [0], keepdim: false) == [4, 1], "only axis 0 goes, not every size-1 axis: got \(reducedShape([1, 4, 1], axes: [0], keepdim: false))")
        #expect(reducedShape([5], axes: [0], keepdim: false) == [] && reducedShape([5], axes: [0], keepdim: true) == [1])
    }

    @Test func wholeTensorSumsAndMeans() {
        let x = Tensor((1...24).map { Float($0) }, shape: [2, 3, 4])
        let s = x.sum(axes: [2, 0, 1])
        #expect(s.shape == [] && s.item() == 300, "1 + 2 + … + 24 = 300 as a scalar, got shape \(s.shape)")
        let k = x.mean(axes: nil, keepdim: true)
        #expect(k.shape == [1, 1, 1] && k.item() == 12.5, "the mean with keepdim: shape [1, 1, 1] holding 12.5, got \(k.shape)")
    }
}

// MARK: - 4.2 reductionLayout

@Suite struct Exercise_4_2 {
    @Test func zeroSizes() {
        let a = reductionLayout([2, 0, 3], axis: 1)
        #expect(a == (2, 0, 3), "got \(a)")
        let b = reductionLayout([0, 4], axis: 1)
        #expect(b == (0, 4, 1), "a size 0 before the axis makes outer 0: expected (0, 4, 1), got \(b)")
        let c = reductionLayout([3, 5, 0], axis: 0)
        #expect(c == (1, 3, 0), "got \(c)")
    }

    @Test func rank1AndRank5() {
        let v = reductionLayout([7], axis: 0)
        #expect(v == (1, 7, 1), "a vector is one run: (1, 7, 1), got \(v)")
        let r5 = reductionLayout([2, 3, 4, 5, 6], axis: 2)
        #expect(r5 == (6, 4, 30), "[2, 3, 4, 5, 6] around axis 2: (2·3, 4, 5·6) = (6, 4, 30), got \(r5)\(r5 == (30, 4, 6) ? " — outer and inner are swapped: outer is the product BEFORE the axis" : "")")
    }

    @Test func sizeOneAxes() {
        let a = reductionLayout([1, 5, 1], axis: 1)
        #expect(a == (1, 5, 1), "got \(a)")
        let b = reductionLayout([4, 1, 3], axis: 1)
        #expect(b == (4, 1, 3), "got \(b)")
    }

    @Test func lastAxisSumsOfAnyLayout() {
        // Along the last axis, each sum is one contiguous run after `contiguous()`.
        let values = (0..<24).map { Float($0 % 7) }
        let x = reversedView(values, [2, 3, 4])
        let expected = rowsAlong(values, [2, 3, 4], axis: 2).map { $0.reduce(0, +) }
        expectValues("the sums along the last axis of a permuted [2, 3, 4] view", x.sum(axis: -1), expected, shape: [2, 3], hints: [])
        expectValues("the row means with keepdim", x.mean(axis: 2, keepdim: true), expected.map { $0 / 4 }, shape: [2, 3, 1], hints: [])
    }
}

// MARK: - 4.3 sumMiddleAxis

@Suite struct Exercise_4_3 {
    @Test func everyAxisOfARank4View() {
        var g = SeededGenerator(seed: 403)
        let shape = [2, 3, 4, 5]
        let values = wholeNumbers(120, &g)
        let x = reversedView(values, shape)
        for axis in 0..<3 {   // axis 3 is the last: the fast path
            var kept = shape
            kept[axis] = 1
            let expected = rowsAlong(values, shape, axis: axis).map { $0.reduce(0, +) }
            expectValues("the sum over axis \(axis) of a [2, 3, 4, 5] view", x.sum(axis: axis, keepdim: true), expected, shape: kept, hints: [])
        }
    }

    @Test func severalAxesAndNegativeOnes() {
        let x = Tensor((0..<24).map { Float($0) }, shape: [2, 3, 4])
        // Σ over axes 0 and 1 of 12a + 4b + c = 6·c + (0 + 12)·3 + (0 + 4 + 8)·2 = 6c + 60.
        expectValues("the sum over axes [-3, -2]", x.sum(axes: [-3, -2]), [60, 66, 72, 78], shape: [4], hints: [])
        expectValues("the mean over axes [0, 1] with keepdim", x.mean(axes: [0, 1], keepdim: true), [10, 11, 12, 13], shape: [1, 1, 4], hints: [])
    }

    @Test func anEmptyAxisSumsToZero() {
        let x = Tensor.zeros([2, 0, 3])
        expectValues("the sum over an empty axis", x.sum(axis: 1), [0, 0, 0, 0, 0, 0], shape: [2, 3], hints: [])
    }

    @Test func emptyOuterAxes() {
        let x = Tensor.zeros([0, 3, 2])
        let s = x.sum(axis: 1)
        #expect(s.shape == [0, 2] && s.count == 0, "summing axis 1 of [0, 3, 2] gives an empty [0, 2], got \(s.shape)")
    }

    @Test func aSizeOneAxisChangesNothing() {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        expectValues("the sum over a size-1 axis", Tensor(values, shape: [2, 1, 3]).sum(axis: 1), values, shape: [2, 3], hints: [])
    }

    @Test func longSumsStayAccurate() {
        // 400,000 rows of 0.1: a Float running sum ends about 0.05% too high (40,020.8).
        let n = 400_000
        let x = Tensor([Float](repeating: 0.1, count: 2 * n), shape: [n, 2])
        let s = x.sum(axis: 0).toArray()
        let exact = Float(Double(Float(0.1)) * Double(n))
        let worst = s.map { Swift.abs($0 - exact) / exact }.max() ?? 0
        #expect(worst < 1e-5,
                "the sum of \(n) copies of 0.1 should be \(exact), got \(s) (relative error \(worst)) — accumulate in Double: once a Float running sum is large, every addition of 0.1 is rounded to a multiple of the gap between Floats (1/256 above 32,768)")
    }

    @Test func randomShapesAndAxes() {
        var g = SeededGenerator(seed: 404)
        for trial in 0..<150 {
            let shape = (0..<Int.random(in: 2...4, using: &g)).map { _ in Int.random(in: 1...5, using: &g) }
            let values = wholeNumbers(shape.reduce(1, *), &g)
            let axis = Int.random(in: 0..<(shape.count - 1), using: &g)
            let x = Bool.random(using: &g) ? Tensor(values, shape: shape) : reversedView(values, shape)
            var kept = shape
            kept.remove(at: axis)
            let expected = rowsAlong(values, shape, axis: axis).map { $0.reduce(0, +) }
            let got = x.sum(axis: axis)
            let ok = got.shape == kept && got.toArray() == expected
            #expect(ok, "trial \(trial) (seed 404): sum over axis \(axis) of shape \(shape) should be \(kept) holding \(expected.prefix(8))…, got \(got.shape) holding \(got.toArray().prefix(8))…")
            if !ok { return }  // one failing case is enough to read
        }
    }
}

// MARK: - 4.4 extremeIndices

@Suite struct Exercise_4_4 {
    @Test func tiesGoToTheFirst() {
        let x = Tensor([3, 7, 7, 1, 2, 2, 2, 2, 0, 0, 5, 5], shape: [3, 4])
        expectValues("argmax along axis 1", x.argmax(axis: 1), [1, 0, 2], shape: [3], hints: [.lastOfTies])
        expectValues("argmin along axis 1", x.argmin(axis: 1), [3, 0, 0], shape: [3], hints: [.lastOfTies])
        expectValues("argmax along axis 0", x.argmax(axis: 0), [0, 0, 0, 2], shape: [4], hints: [.lastOfTies])
    }

    @Test func nanWins() {
        let x = Tensor([1, .nan, 5, .nan, 2, 9])
        let i = x.argmax().item()
        #expect(i == 1, "argmax of [1, NaN, 5, NaN, 2, 9] is 1, the first NaN (as in PyTorch: a NaN is never hidden), got \(i)\(i == 5 ? " — every comparison with NaN is false, so NaN never wins by itself: treat a NaN as larger than everything" : "")")
        let j = x.argmin().item()
        #expect(j == 1, "argmin gives the first NaN too, got \(j)")
        #expect(x.max().item().isNaN, "the max of a tensor holding NaN is NaN")
        let first = Tensor([.nan, 3, 4]).argmax().item()
        #expect(first == 0, "a NaN in the first place must stay the winner, got \(first)")
    }

    @Test func infinitiesAndEqualRows() {
        expectValues("argmax of [−∞, −∞, −∞]", Tensor([-.infinity, -.infinity, -.infinity]).argmax(axis: 0), [0], shape: [], hints: [])
        expectValues("argmax of [−3, ∞, 2]", Tensor([-3, .infinity, 2]).argmax(axis: 0), [1], shape: [], hints: [])
        expectValues("argmin of [4, 4, 4]", Tensor([4, 4, 4]).argmin(axis: 0), [0], shape: [], hints: [])
        expectValues("argmax of negative numbers [−5, −2, −9]", Tensor([-5, -2, -9]).argmax(axis: 0), [1], shape: [],
                     hints: [MistakeHint(message: "starting `best` at 0 instead of the first element loses when every element is negative.") { a, _, _, _ in a == [0] }])
    }

    @Test func aSizeOneAxis() {
        expectValues("argmax along a size-1 axis", Tensor([3, 1, 2], shape: [3, 1]).argmax(axis: 1, keepdim: true), [0, 0, 0], shape: [3, 1], hints: [])
    }

    @Test func theMiddleAxisOfAView() {
        var g = SeededGenerator(seed: 405)
        let shape = [3, 4, 5]
        let values = wholeNumbers(60, &g, -3...3)
        let x = reversedView(values, shape)
        let rows = rowsAlong(values, shape, axis: 1)
        expectValues("argmax along axis 1 of a [3, 4, 5] view", x.argmax(axis: 1), rows.map { Float($0.firstIndex(of: $0.max()!)!) },
                     shape: [3, 5], hints: [.lastOfTies])
        expectValues("max along axis 1, keepdim", x.max(axis: 1, keepdim: true), rows.map { $0.max()! }, shape: [3, 1, 5], hints: [])
        expectValues("min along axis 1", x.min(axis: -2), rows.map { $0.min()! }, shape: [3, 5], hints: [])
    }

    @Test func maxOverSeveralAxes() {
        let x = Tensor([1, 9, 3, 4, 5, 6, 7, 8], shape: [2, 2, 2])
        // For the middle index 0: {1, 9, 5, 6}; for 1: {3, 4, 7, 8}.
        expectValues("max over axes [0, 2]", x.max(axes: [0, 2]), [9, 8], shape: [2], hints: [])
    }
}

// MARK: - 4.5 logsumexp

@Suite struct Exercise_4_5 {
    @Test func valuesThatOverflowExp() {
        expectValues("logsumexp of [100, 200]", Tensor([100, 200]).logsumexp(), [200], shape: [], hints: [.overflowed])
        expectValues("logsumexp of [89, 89]", Tensor([89, 89]).logsumexp(), [89 + Float(M_LN2)], shape: [], hints: [.overflowed])
    }

    @Test func valuesThatUnderflowExp() {
        expectValues("logsumexp of [−200, −200, −200]", Tensor([-200, -200, -200]).logsumexp(), [-200 + Float(log(3.0))], shape: [],
                     hints: [.overflowed])
    }

    @Test func rowsOfMinusInfinity() {
        let x = Tensor([-.infinity, -.infinity, 0, -.infinity], shape: [2, 2])
        expectValues("logsumexp of rows [−∞, −∞] and [0, −∞]", x.logsumexp(axis: 1), [-.infinity, 0], shape: [2],
                     hints: [.infinityMinusInfinity, .overflowed])
    }

    @Test func plusInfinityGivesPlusInfinity() {
        let r = Tensor([1, .infinity, 3]).logsumexp().item()
        #expect(r == .infinity, "logsumexp of [1, ∞, 3] is ∞, got \(r)\(r.isNaN ? " — ∞ − ∞ = NaN: shift by the maximum only when it is finite" : "")")
    }

    @Test func everyAxisOfAView() {
        var g = SeededGenerator(seed: 406)
        let shape = [2, 3, 4]
        let values = (0..<24).map { _ in Float(Int.random(in: -50...50, using: &g)) * 10 }   // up to ±500: e^500 overflows
        let x = reversedView(values, shape)
        for axis in 0..<3 {
            var kept = shape
            kept[axis] = 1
            let expected = rowsAlong(values, shape, axis: axis).map { row -> Float in
                let m = Double(row.max()!)
                return Float(m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }))
            }
            expectValues("logsumexp over axis \(axis) (keepdim) of a [2, 3, 4] view holding up to ±500", x.logsumexp(axis: axis, keepdim: true),
                         expected, shape: kept, hints: [.overflowed])
        }
    }

    @Test func keepdimAndNegativeAxes() {
        let x = Tensor([0, 0, 0, 0], shape: [2, 2])
        expectValues("logsumexp over axis −2", x.logsumexp(axis: -2), [Float(M_LN2), Float(M_LN2)], shape: [2], hints: [])
        expectValues("logsumexp over axis 0, keepdim", x.logsumexp(axis: 0, keepdim: true), [Float(M_LN2), Float(M_LN2)], shape: [1, 2], hints: [])
    }
}

// MARK: - 4.6 softmax

@Suite struct Exercise_4_6 {
    @Test func hugeAndTinyInputs() {
        expectValues("softmax of [1000, 1000]", Tensor([1000, 1000]).softmax(), [0.5, 0.5], shape: [2], hints: [.overflowed])
        expectValues("softmax of [−1000, 0]", Tensor([-1000, 0]).softmax(), [0, 1], shape: [2], hints: [.overflowed])
        expectValues("softmax of [−1000, −1000]", Tensor([-1000, -1000]).softmax(), [0.5, 0.5], shape: [2], hints: [.overflowed])
    }

    @Test func minusInfinityIsMaskedOut() {
        // How attention masks positions: a −∞ score gets probability exactly 0.
        expectValues("softmax of [0, −∞, 0]", Tensor([0, -.infinity, 0]).softmax(), [0.5, 0, 0.5], shape: [3], hints: [.overflowed])
    }

    @Test func aSingleElementIsCertain() {
        expectValues("softmax along a size-1 axis", Tensor([3, -700, 800], shape: [3, 1]).softmax(axis: 1), [1, 1, 1], shape: [3, 1], hints: [.overflowed])
    }

    @Test func everyAxisOfAView() {
        var g = SeededGenerator(seed: 407)
        let shape = [3, 2, 4]
        let values = (0..<24).map { _ in Float(Int.random(in: -300...300, using: &g)) / 3 }
        let x = reversedView(values, shape)
        for axis in 0..<3 {
            let expected = [Float](unsafeUninitializedCapacity: values.count) { buffer, count in
                for index in indicesOf(shape) {
                    var row: [Double] = []
                    for r in 0..<shape[axis] { var i = index; i[axis] = r; row.append(Double(values[position(i, shape)])) }
                    let m = row.max()!
                    let total = row.reduce(0.0) { $0 + Foundation.exp($1 - m) }
                    buffer[position(index, shape)] = Float(Foundation.exp(Double(values[position(index, shape)]) - m) / total)
                }
                count = values.count
            }
            expectValues("softmax over axis \(axis) of a [3, 2, 4] view holding up to ±100", x.softmax(axis: axis), expected, shape: shape,
                         atol: 1e-6, rtol: 1e-4, hints: [.overflowed])
        }
    }

    @Test func rowsSumToOne() {
        var g = SeededGenerator(seed: 408)
        let x = Tensor((0..<60).map { _ in g.nextNormal() * 20 }, shape: [6, 10])
        let s = x.softmax(axis: 1).toArray()
        for r in 0..<6 {
            let row = s[(r * 10)..<(r * 10 + 10)]
            let total = row.reduce(0, +)
            #expect(Swift.abs(total - 1) < 1e-5 && row.allSatisfy { $0 >= 0 && $0.isFinite },
                    "row \(r) of softmax should be finite, non-negative and sum to 1, sums to \(total)")
        }
    }
}
