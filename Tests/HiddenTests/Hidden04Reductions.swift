import Foundation
import Testing
import Kindling

// Hidden tests of lesson 4 (reductions, argmax, logsumexp, softmax). The
// grader maps each test to its exercise by the suite name `Exercise_4_N`; each
// suite uses only its own exercise and earlier ones. They probe what the
// visible tests leave out: zero sizes, size-1 axes, axes given in any order,
// non-contiguous inputs, long sums, ties and NaN, ±∞ and rows that overflow.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

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

/// log Σ eˣ of a row, in Double, shifted by its maximum (±∞ when the maximum is).
private func referenceLogSumExp(_ row: [Float]) -> Float {
    let m = Double(row.max()!)
    if m.isInfinite { return Float(m) }
    return Float(m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }))
}

/// The softmax of a row, in Double.
private func referenceSoftmax(_ row: [Float]) -> [Float] {
    let m = Double(row.max()!)
    let total = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
    return row.map { Float(Foundation.exp(Double($0) - m) / total) }
}

/// A random shape of `rank` axes with sizes in `sizes`.
private func randomShape(_ rank: Int, _ sizes: ClosedRange<Int>, _ g: inout SeededGenerator) -> [Int] {
    (0..<rank).map { _ in Int.random(in: sizes, using: &g) }
}

/// `shape` with `axes` removed, or made 1 (`keepdim`), worked out by the test.
private func shapeWithout(_ shape: [Int], axes: [Int], keepdim: Bool) -> [Int] {
    shape.indices.compactMap { axes.contains($0) ? (keepdim ? 1 : nil) : shape[$0] }
}

/// Observes a list of integer lists (shapes, layouts) as their lengths and their entries in order.
private func observeLists(_ what: String, _ lists: [[Int]]) {
    observe("\(what) — their lengths", lists.map(\.count))
    observe("\(what) — their entries, one list after another", lists.flatMap { $0 })
}

// MARK: - 4.1 reducedShape

@Suite struct Exercise_4_1 {
    @Test func axesInAnyOrder() {
        let s = reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: false)
        observeLists("reducedShape([2, 3, 4, 5], axes: [3, 1]) without and with keepdim", [s, reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: true)])
        #expect(s == [2, 4], "reducing axes [3, 1] of [2, 3, 4, 5] leaves [2, 4], got \(s)\(s == [2, 3] || s == [3, 5] ? " — removing axes one at a time by index shifts the later ones: decide per axis whether it is reduced" : "")")
        #expect(reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: true) == [2, 1, 4, 1], "got \(reducedShape([2, 3, 4, 5], axes: [3, 1], keepdim: true))")

        // Drawn from the grading seed: another shape and two axes, the larger first.
        var g = SeededGenerator(seed: graded(4101))
        let shape = randomShape(Int.random(in: 4...5, using: &g), 2...9, &g)
        let pair = Array(shape.indices).shuffled(using: &g).prefix(2).sorted(by: >)
        let results = [reducedShape(shape, axes: pair, keepdim: false), reducedShape(shape, axes: pair, keepdim: true)]
        observeLists("reducedShape(\(shape), axes: \(pair)) without and with keepdim", results)
        let expected = [shapeWithout(shape, axes: pair, keepdim: false), shapeWithout(shape, axes: pair, keepdim: true)]
        #expect(results == expected, "reducing axes \(pair) of \(shape) leaves \(expected[0]) (\(expected[1]) with keepdim), got \(results[0]) and \(results[1]) — decide per axis whether it is reduced")
    }

    @Test func noAxesChangesNothing() {
        observeLists("reducedShape of [2, 3] and of [] over no axes", [reducedShape([2, 3], axes: [], keepdim: false), reducedShape([], axes: [], keepdim: true)])
        #expect(reducedShape([2, 3], axes: [], keepdim: false) == [2, 3], "reducing no axis keeps the shape, got \(reducedShape([2, 3], axes: [], keepdim: false))")
        #expect(reducedShape([], axes: [], keepdim: true) == [], "a scalar stays a scalar, got \(reducedShape([], axes: [], keepdim: true))")

        // Drawn from the grading seed: another shape over no axes.
        var g = SeededGenerator(seed: graded(4102))
        let shape = randomShape(Int.random(in: 3...5, using: &g), 0...30, &g)
        let results = [reducedShape(shape, axes: [], keepdim: false), reducedShape(shape, axes: [], keepdim: true)]
        observeLists("reducedShape(\(shape), axes: []) without and with keepdim", results)
        #expect(results == [shape, shape], "reducing no axis keeps the shape \(shape), got \(results)")
    }

    @Test func zeroAndOneSizes() {
        observeLists("reducedShape of ([2, 0, 3], axes [1]), the same with keepdim, ([1, 4, 1], axes [0]), ([5], axes [0]) and the same with keepdim",
                     [reducedShape([2, 0, 3], axes: [1], keepdim: false), reducedShape([2, 0, 3], axes: [1], keepdim: true),
                      reducedShape([1, 4, 1], axes: [0], keepdim: false), reducedShape([5], axes: [0], keepdim: false), reducedShape([5], axes: [0], keepdim: true)])
        #expect(reducedShape([2, 0, 3], axes: [1], keepdim: false) == [2, 3], "got \(reducedShape([2, 0, 3], axes: [1], keepdim: false))")
        #expect(reducedShape([2, 0, 3], axes: [1], keepdim: true) == [2, 1, 3],
                "a reduced axis becomes 1 even when it was 0 (the sum of nothing is one number), got \(reducedShape([2, 0, 3], axes: [1], keepdim: true))")
        #expect(reducedShape([1, 4, 1], axes: [0], keepdim: false) == [4, 1], "only axis 0 goes, not every size-1 axis: got \(reducedShape([1, 4, 1], axes: [0], keepdim: false))")
        #expect(reducedShape([5], axes: [0], keepdim: false) == [] && reducedShape([5], axes: [0], keepdim: true) == [1])

        // Drawn from the grading seed: shapes with sizes 0 and 1 among others, reduced over some axes.
        var g = SeededGenerator(seed: graded(4103))
        for _ in 0..<3 {
            let shape = (0..<Int.random(in: 3...5, using: &g)).map { _ in [0, 1, 1, Int.random(in: 2...9, using: &g)].randomElement(using: &g)! }
            let axes = shape.indices.filter { _ in Bool.random(using: &g) }
            let results = [reducedShape(shape, axes: axes, keepdim: false), reducedShape(shape, axes: axes, keepdim: true)]
            observeLists("reducedShape(\(shape), axes: \(axes)) without and with keepdim", results)
            let expected = [shapeWithout(shape, axes: axes, keepdim: false), shapeWithout(shape, axes: axes, keepdim: true)]
            #expect(results == expected, "reducing axes \(axes) of \(shape) leaves \(expected[0]) (\(expected[1]) with keepdim: a reduced axis becomes 1, even from 0), got \(results[0]) and \(results[1])")
        }
    }

    @Test func wholeTensorSumsAndMeans() {
        let x = Tensor((1...24).map { Float($0) }, shape: [2, 3, 4])
        let s = x.sum(axes: [2, 0, 1])
        let k = x.mean(axes: nil, keepdim: true)
        observe("the sum of 1…24 ([2, 3, 4]) over axes [2, 0, 1]", s, atol: 0, rtol: 0)
        observe("the mean of 1…24 ([2, 3, 4]) with keepdim", k, atol: 0, rtol: 0)
        #expect(s.shape == [] && s.item() == 300, "1 + 2 + … + 24 = 300 as a scalar, got shape \(s.shape)")
        #expect(k.shape == [1, 1, 1] && k.item() == 12.5, "the mean with keepdim: shape [1, 1, 1] holding 12.5, got \(k.shape)")

        // Drawn from the grading seed: other whole numbers, a power-of-2 count (so the mean is exact), the axes in another order.
        var g = SeededGenerator(seed: graded(4104))
        let shape = (0..<3).map { _ in [1, 2, 4].randomElement(using: &g)! }
        let values = wholeNumbers(shape.reduce(1, *), &g, -50...50)
        let axes = [0, 1, 2].shuffled(using: &g)
        let y = Tensor(values, shape: shape)
        let total = values.reduce(0, +), mean = total / Float(values.count)
        let t = y.sum(axes: axes), m = y.mean(axes: nil, keepdim: true)
        observe("the sum over axes \(axes) of \(shape) holding \(values)", t, atol: 0, rtol: 0)
        observe("the mean with keepdim of \(shape) holding \(values)", m, atol: 0, rtol: 0)
        #expect(t.shape == [] && t.item() == total && m.shape == [1, 1, 1] && m.item() == mean,
                "\(shape) holding \(values): expected the sum \(total) as a scalar and the mean \(mean) with shape [1, 1, 1], got \(t.toArray()) of shape \(t.shape) and \(m.toArray()) of shape \(m.shape)")
    }
}

// MARK: - 4.2 reductionLayout

@Suite struct Exercise_4_2 {
    @Test func zeroSizes() {
        let a = reductionLayout([2, 0, 3], axis: 1)
        let b = reductionLayout([0, 4], axis: 1)
        let c = reductionLayout([3, 5, 0], axis: 0)
        observeLists("(outer, n, inner) of reductionLayout([2, 0, 3], axis: 1), ([0, 4], axis: 1), ([3, 5, 0], axis: 0)",
                     [[a.outer, a.n, a.inner], [b.outer, b.n, b.inner], [c.outer, c.n, c.inner]])
        #expect(a == (2, 0, 3), "got \(a)")
        #expect(b == (0, 4, 1), "a size 0 before the axis makes outer 0: expected (0, 4, 1), got \(b)")
        #expect(c == (1, 3, 0), "got \(c)")

        // Drawn from the grading seed: another shape with a size 0, around each axis.
        var g = SeededGenerator(seed: graded(4201))
        var shape = randomShape(3, 2...100, &g)
        shape[Int.random(in: 0..<3, using: &g)] = 0
        let layouts = (0..<3).map { reductionLayout(shape, axis: $0) }
        observeLists("(outer, n, inner) of reductionLayout(\(shape)) around axes 0, 1, 2", layouts.map { [$0.outer, $0.n, $0.inner] })
        for (axis, l) in layouts.enumerated() {
            let expected = (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
            #expect(l == expected, "reductionLayout(\(shape), axis: \(axis)) should be \(expected), got \(l)")
        }
    }

    @Test func rank1AndRank5() {
        let v = reductionLayout([7], axis: 0)
        let r5 = reductionLayout([2, 3, 4, 5, 6], axis: 2)
        observeLists("(outer, n, inner) of reductionLayout([7], axis: 0) and ([2, 3, 4, 5, 6], axis: 2)", [[v.outer, v.n, v.inner], [r5.outer, r5.n, r5.inner]])
        #expect(v == (1, 7, 1), "a vector is one run: (1, 7, 1), got \(v)")
        #expect(r5 == (6, 4, 30), "[2, 3, 4, 5, 6] around axis 2: (2·3, 4, 5·6) = (6, 4, 30), got \(r5)\(r5 == (30, 4, 6) ? " — outer and inner are swapped: outer is the product BEFORE the axis" : "")")

        // Drawn from the grading seed: another vector, and another rank-5 shape around a random axis.
        var g = SeededGenerator(seed: graded(4202))
        let n = Int.random(in: 2...99, using: &g)
        let shape = randomShape(5, 1...6, &g), axis = Int.random(in: 0..<5, using: &g)
        let u = reductionLayout([n], axis: 0), r = reductionLayout(shape, axis: axis)
        observeLists("(outer, n, inner) of reductionLayout([\(n)], axis: 0) and (\(shape), axis: \(axis))", [[u.outer, u.n, u.inner], [r.outer, r.n, r.inner]])
        let expected = (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
        #expect(u == (1, n, 1) && r == expected,
                "expected (1, \(n), 1) for [\(n)] and \(expected) for \(shape) around axis \(axis) (outer: the product before the axis, inner: after it), got \(u) and \(r)")
    }

    @Test func sizeOneAxes() {
        let a = reductionLayout([1, 5, 1], axis: 1)
        let b = reductionLayout([4, 1, 3], axis: 1)
        observeLists("(outer, n, inner) of reductionLayout([1, 5, 1], axis: 1) and ([4, 1, 3], axis: 1)", [[a.outer, a.n, a.inner], [b.outer, b.n, b.inner]])
        #expect(a == (1, 5, 1), "got \(a)")
        #expect(b == (4, 1, 3), "got \(b)")

        // Drawn from the grading seed: size-1 axes around and at the reduced one.
        var g = SeededGenerator(seed: graded(4203))
        let p = Int.random(in: 2...1000, using: &g), q = Int.random(in: 2...1000, using: &g)
        let c = reductionLayout([1, p, 1], axis: 1), d = reductionLayout([p, 1, q], axis: 1)
        observeLists("(outer, n, inner) of reductionLayout([1, \(p), 1], axis: 1) and ([\(p), 1, \(q)], axis: 1)", [[c.outer, c.n, c.inner], [d.outer, d.n, d.inner]])
        #expect(c == (1, p, 1) && d == (p, 1, q), "expected (1, \(p), 1) and (\(p), 1, \(q)), got \(c) and \(d)")
    }

    @Test func lastAxisSumsOfAnyLayout() {
        // Along the last axis, each sum is one contiguous run after `contiguous()`.
        let values = (0..<24).map { Float($0 % 7) }
        let x = reversedView(values, [2, 3, 4])
        let expected = rowsAlong(values, [2, 3, 4], axis: 2).map { $0.reduce(0, +) }
        expectValues("the sums along the last axis of a permuted [2, 3, 4] view", x.sum(axis: -1), expected, shape: [2, 3], hints: [])
        expectValues("the row means with keepdim", x.mean(axis: 2, keepdim: true), expected.map { $0 / 4 }, shape: [2, 3, 1], hints: [])

        // Drawn from the grading seed: another permuted view holding other whole numbers.
        var g = SeededGenerator(seed: graded(4204))
        let shape = randomShape(3, 2...5, &g)
        let seededValues = wholeNumbers(shape.reduce(1, *), &g, -9...9)
        let y = reversedView(seededValues, shape)
        let sums = rowsAlong(seededValues, shape, axis: 2).map { $0.reduce(0, +) }
        expectValues("the sums along the last axis of a permuted \(shape) view", y.sum(axis: -1), sums, shape: [shape[0], shape[1]], hints: [])
        expectValues("the row means with keepdim of that view", y.mean(axis: 2, keepdim: true), sums.map { $0 / Float(shape[2]) }, shape: [shape[0], shape[1], 1], hints: [])
    }
}

// MARK: - 4.3 sumMiddleAxis

@Suite struct Exercise_4_3 {
    @Test func everyAxisOfARank4View() {
        var g = SeededGenerator(seed: graded(403))
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

        // Drawn from the grading seed: another shape holding other whole numbers.
        var g = SeededGenerator(seed: graded(4301))
        let shape = randomShape(3, 2...5, &g)
        let values = wholeNumbers(shape.reduce(1, *), &g, -20...20)
        let y = Tensor(values, shape: shape)
        let sums = (0..<shape[2]).map { c in stride(from: c, to: values.count, by: shape[2]).reduce(Float(0)) { $0 + values[$1] } }
        expectValues("the sum over axes [-3, -2] of \(shape) holding \(values.prefix(8))…", y.sum(axes: [-3, -2]), sums, shape: [shape[2]], hints: [])
        expectValues("the mean over axes [0, 1] with keepdim of that tensor", y.mean(axes: [0, 1], keepdim: true), sums.map { $0 / Float(shape[0] * shape[1]) },
                     shape: [1, 1, shape[2]], hints: [])
    }

    @Test func anEmptyAxisSumsToZero() {
        let x = Tensor.zeros([2, 0, 3])
        expectValues("the sum over an empty axis", x.sum(axis: 1), [0, 0, 0, 0, 0, 0], shape: [2, 3], hints: [])

        // Drawn from the grading seed: other empty axes between other sizes.
        var g = SeededGenerator(seed: graded(4302))
        let p = Int.random(in: 1...20, using: &g), q = Int.random(in: 1...20, using: &g)
        expectValues("the sum over the empty axis of [\(p), 0, \(q)]", Tensor.zeros([p, 0, q]).sum(axis: 1), [Float](repeating: 0, count: p * q), shape: [p, q], hints: [])
        let (a, b, c) = (Int.random(in: 1...10, using: &g), Int.random(in: 1...10, using: &g), Int.random(in: 1...10, using: &g))
        expectValues("the sum over the empty axis of [\(a), \(b), 0, \(c)]", Tensor.zeros([a, b, 0, c]).sum(axis: 2), [Float](repeating: 0, count: a * b * c), shape: [a, b, c], hints: [])
    }

    @Test func emptyOuterAxes() {
        let x = Tensor.zeros([0, 3, 2])
        let s = x.sum(axis: 1)
        observe("the shape of the sum over axis 1 of [0, 3, 2]", s.shape)
        observe("the number of elements of that sum", s.count)
        #expect(s.shape == [0, 2] && s.count == 0, "summing axis 1 of [0, 3, 2] gives an empty [0, 2], got \(s.shape)")

        // Drawn from the grading seed: other sizes after the empty axis, summed over axes 1 and 2.
        var g = SeededGenerator(seed: graded(4303))
        let n = Int.random(in: 1...1000, using: &g), m = Int.random(in: 1...1000, using: &g)
        let y = Tensor.zeros([0, n, m])
        let shapes = [y.sum(axis: 1).shape, y.sum(axis: 2).shape]
        observeLists("the shapes of the sums over axis 1 and over axis 2 of [0, \(n), \(m)]", shapes)
        #expect(shapes == [[0, m], [0, n]], "summing axis 1 and axis 2 of [0, \(n), \(m)] gives empty [0, \(m)] and [0, \(n)], got \(shapes)")
    }

    @Test func aSizeOneAxisChangesNothing() {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        expectValues("the sum over a size-1 axis", Tensor(values, shape: [2, 1, 3]).sum(axis: 1), values, shape: [2, 3], hints: [])

        // Drawn from the grading seed: another shape and other values.
        var g = SeededGenerator(seed: graded(4304))
        let p = Int.random(in: 2...6, using: &g), q = Int.random(in: 2...6, using: &g)
        let seeded = wholeNumbers(p * q, &g, -99...99)
        expectValues("the sum over the size-1 axis of [\(p), 1, \(q)] holding \(seeded.prefix(8))…", Tensor(seeded, shape: [p, 1, q]).sum(axis: 1), seeded, shape: [p, q], hints: [])
    }

    @Test func longSumsStayAccurate() {
        // 400,000 rows of 0.1: a Float running sum ends about 0.05% too high (40,020.8).
        let n = 400_000
        let x = Tensor([Float](repeating: 0.1, count: 2 * n), shape: [n, 2])
        let s = x.sum(axis: 0).toArray()
        observe("the sums over axis 0 of \(n) rows [0.1, 0.1]", s, rtol: 2e-5)
        let exact = Float(Double(Float(0.1)) * Double(n))
        let worst = s.map { Swift.abs($0 - exact) / exact }.max() ?? 0
        #expect(worst < 1e-5,
                "the sum of \(n) copies of 0.1 should be \(exact), got \(s) (relative error \(worst)) — accumulate in Double: once a Float running sum is large, every addition of 0.1 is rounded to a multiple of the gap between Floats (1/256 above 32,768)")

        // Drawn from the grading seed: another long column of another number.
        var g = SeededGenerator(seed: graded(4305))
        let rows = Int.random(in: 300_000...400_000, using: &g), v = Float.random(in: 0.05...0.3, using: &g)
        let t = Tensor([Float](repeating: v, count: 2 * rows), shape: [rows, 2]).sum(axis: 0).toArray()
        observe("the sums over axis 0 of \(rows) rows [\(v), \(v)]", t, rtol: 2e-5)
        let seededExact = Float(Double(v) * Double(rows))
        let seededWorst = t.map { Swift.abs($0 - seededExact) / seededExact }.max() ?? 0
        #expect(seededWorst < 1e-5,
                "the sum of \(rows) copies of \(v) should be \(seededExact), got \(t) (relative error \(seededWorst)) — accumulate in Double: once a Float running sum is large, every addition is rounded to a multiple of the gap between Floats")
    }

    @Test func randomShapesAndAxes() {
        var g = SeededGenerator(seed: graded(404))
        var shapes: [[Int]] = [], sums: [Float] = []
        for trial in 0..<150 {
            let shape = (0..<Int.random(in: 2...4, using: &g)).map { _ in Int.random(in: 1...5, using: &g) }
            let values = wholeNumbers(shape.reduce(1, *), &g)
            let axis = Int.random(in: 0..<(shape.count - 1), using: &g)
            let x = Bool.random(using: &g) ? Tensor(values, shape: shape) : reversedView(values, shape)
            var kept = shape
            kept.remove(at: axis)
            let expected = rowsAlong(values, shape, axis: axis).map { $0.reduce(0, +) }
            let got = x.sum(axis: axis)
            shapes.append(got.shape)
            sums += got.toArray()
            let ok = got.shape == kept && got.toArray() == expected
            #expect(ok, "trial \(trial) (seed 404): sum over axis \(axis) of shape \(shape) should be \(kept) holding \(expected.prefix(8))…, got \(got.shape) holding \(got.toArray().prefix(8))…")
            if !ok { return }  // one failing case is enough to read
        }
        observeLists("the shapes of 150 random sums over one axis", shapes)
        observe("the values of those 150 sums, one after another", sums)
    }
}

// MARK: - 4.4 extremeIndices

@Suite struct Exercise_4_4 {
    @Test func tiesGoToTheFirst() {
        let x = Tensor([3, 7, 7, 1, 2, 2, 2, 2, 0, 0, 5, 5], shape: [3, 4])
        expectValues("argmax along axis 1", x.argmax(axis: 1), [1, 0, 2], shape: [3], hints: [.lastOfTies])
        expectValues("argmin along axis 1", x.argmin(axis: 1), [3, 0, 0], shape: [3], hints: [.lastOfTies])
        expectValues("argmax along axis 0", x.argmax(axis: 0), [0, 0, 0, 2], shape: [4], hints: [.lastOfTies])

        // Drawn from the grading seed: another matrix of −1, 0 and 1 (full of ties).
        var g = SeededGenerator(seed: graded(4401))
        let r = Int.random(in: 2...5, using: &g), c = Int.random(in: 3...6, using: &g)
        let values = wholeNumbers(r * c, &g, -1...1)
        let y = Tensor(values, shape: [r, c])
        let rows = (0..<r).map { Array(values[($0 * c)..<($0 * c + c)]) }
        let columns = (0..<c).map { j in (0..<r).map { values[$0 * c + j] } }
        expectValues("argmax along axis 1 of \(rows)", y.argmax(axis: 1), rows.map { Float($0.firstIndex(of: $0.max()!)!) }, shape: [r], hints: [.lastOfTies])
        expectValues("argmin along axis 1 of \(rows)", y.argmin(axis: 1), rows.map { Float($0.firstIndex(of: $0.min()!)!) }, shape: [r], hints: [.lastOfTies])
        expectValues("argmax along axis 0 of \(rows)", y.argmax(axis: 0), columns.map { Float($0.firstIndex(of: $0.max()!)!) }, shape: [c], hints: [.lastOfTies])
    }

    @Test func nanWins() {
        let x = Tensor([1, .nan, 5, .nan, 2, 9])
        let i = x.argmax().item()
        observe("argmax of [1, NaN, 5, NaN, 2, 9]", i)
        #expect(i == 1, "argmax of [1, NaN, 5, NaN, 2, 9] is 1, the first NaN (as in PyTorch: a NaN is never hidden), got \(i)\(i == 5 ? " — every comparison with NaN is false, so NaN never wins by itself: treat a NaN as larger than everything" : "")")
        let j = x.argmin().item()
        observe("argmin of [1, NaN, 5, NaN, 2, 9]", j)
        #expect(j == 1, "argmin gives the first NaN too, got \(j)")
        observe("max of [1, NaN, 5, NaN, 2, 9]", x.max().item())
        #expect(x.max().item().isNaN, "the max of a tensor holding NaN is NaN")
        let first = Tensor([.nan, 3, 4]).argmax().item()
        observe("argmax of [NaN, 3, 4]", first)
        #expect(first == 0, "a NaN in the first place must stay the winner, got \(first)")

        // Drawn from the grading seed: NaN in other places among other numbers.
        var g = SeededGenerator(seed: graded(4402))
        var values = wholeNumbers(Int.random(in: 5...10, using: &g), &g, -9...9)
        for _ in 0..<Int.random(in: 1...2, using: &g) { values[Int.random(in: 0..<values.count, using: &g)] = .nan }
        let firstNaN = Float(values.firstIndex { $0.isNaN }!)
        let y = Tensor(values)
        let answers = [y.argmax().item(), y.argmin().item(), y.max().item()]
        observe("[argmax, argmin, max] of \(values)", answers)
        #expect(answers[0] == firstNaN && answers[1] == firstNaN && answers[2].isNaN,
                "\(values): argmax and argmin are the first NaN, \(firstNaN), and the max is NaN (a NaN is never hidden), got \(answers)")
    }

    @Test func infinitiesAndEqualRows() {
        expectValues("argmax of [−∞, −∞, −∞]", Tensor([-.infinity, -.infinity, -.infinity]).argmax(axis: 0), [0], shape: [], hints: [])
        expectValues("argmax of [−3, ∞, 2]", Tensor([-3, .infinity, 2]).argmax(axis: 0), [1], shape: [], hints: [])
        expectValues("argmin of [4, 4, 4]", Tensor([4, 4, 4]).argmin(axis: 0), [0], shape: [], hints: [])
        expectValues("argmax of negative numbers [−5, −2, −9]", Tensor([-5, -2, -9]).argmax(axis: 0), [1], shape: [],
                     hints: [MistakeHint(message: "starting `best` at 0 instead of the first element loses when every element is negative.") { a, _, _, _ in a == [0] }])

        // Drawn from the grading seed: ∞ somewhere among other numbers, distinct negative numbers, equal rows.
        var g = SeededGenerator(seed: graded(4403))
        let n = Int.random(in: 3...8, using: &g)
        var withInfinity = wholeNumbers(n, &g, -99...99)
        let k = Int.random(in: 0..<n, using: &g)
        withInfinity[k] = .infinity
        expectValues("argmax of \(withInfinity)", Tensor(withInfinity).argmax(axis: 0), [Float(k)], shape: [], hints: [])
        let negatives = (1...n).shuffled(using: &g).map { -Float($0) }
        expectValues("argmax of negative numbers \(negatives)", Tensor(negatives).argmax(axis: 0), [Float(negatives.firstIndex(of: -1)!)], shape: [],
                     hints: [MistakeHint(message: "starting `best` at 0 instead of the first element loses when every element is negative.") { a, _, _, _ in a == [0] }])
        let equal = [Float](repeating: Float(Int.random(in: -99...99, using: &g)), count: n)
        expectValues("argmin of \(equal)", Tensor(equal).argmin(axis: 0), [0], shape: [], hints: [])
        expectValues("argmax of \(equal)", Tensor(equal).argmax(axis: 0), [0], shape: [], hints: [])
    }

    @Test func aSizeOneAxis() {
        expectValues("argmax along a size-1 axis", Tensor([3, 1, 2], shape: [3, 1]).argmax(axis: 1, keepdim: true), [0, 0, 0], shape: [3, 1], hints: [])

        // Drawn from the grading seed: another column: its argmax along the size-1 axis, and its max.
        var g = SeededGenerator(seed: graded(4404))
        let n = Int.random(in: 2...9, using: &g)
        let values = wholeNumbers(n, &g, -99...99)
        let column = Tensor(values, shape: [n, 1])
        expectValues("argmax along the size-1 axis of \(values) as [\(n), 1]", column.argmax(axis: 1, keepdim: true), [Float](repeating: 0, count: n), shape: [n, 1], hints: [])
        expectValues("max along the size-1 axis of \(values) as [\(n), 1]", column.max(axis: 1), values, shape: [n], hints: [])
    }

    @Test func theMiddleAxisOfAView() {
        var g = SeededGenerator(seed: graded(405))
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

        // Drawn from the grading seed: another shape and other values.
        var g = SeededGenerator(seed: graded(4405))
        let shape = randomShape(3, 2...4, &g)
        let values = wholeNumbers(shape.reduce(1, *), &g, -99...99)
        let expected = (0..<shape[1]).map { b in
            indicesOf(shape).filter { $0[1] == b }.map { values[position($0, shape)] }.max()!
        }
        expectValues("max over axes [0, 2] of \(shape) holding \(values.prefix(8))…", Tensor(values, shape: shape).max(axes: [0, 2]), expected, shape: [shape[1]], hints: [])
    }
}

// MARK: - 4.5 logsumexp

@Suite struct Exercise_4_5 {
    @Test func valuesThatOverflowExp() {
        expectValues("logsumexp of [100, 200]", Tensor([100, 200]).logsumexp(), [200], shape: [], hints: [.overflowed])
        expectValues("logsumexp of [89, 89]", Tensor([89, 89]).logsumexp(), [89 + Float(M_LN2)], shape: [], hints: [.overflowed])

        // Drawn from the grading seed: two other numbers past exp's overflow, and two equal ones.
        var g = SeededGenerator(seed: graded(4501))
        let pair = [Float(Int.random(in: 90...1000, using: &g)), Float(Int.random(in: 90...1000, using: &g)) + 0.5]
        let same = Float(Int.random(in: 89...500, using: &g))
        expectValues("logsumexp of \(pair)", Tensor(pair).logsumexp(), [referenceLogSumExp(pair)], shape: [], hints: [.overflowed])
        expectValues("logsumexp of [\(same), \(same)]", Tensor([same, same]).logsumexp(), [referenceLogSumExp([same, same])], shape: [], hints: [.overflowed])
    }

    @Test func valuesThatUnderflowExp() {
        expectValues("logsumexp of [−200, −200, −200]", Tensor([-200, -200, -200]).logsumexp(), [-200 + Float(log(3.0))], shape: [],
                     hints: [.overflowed])

        // Drawn from the grading seed: three other numbers past exp's underflow.
        var g = SeededGenerator(seed: graded(4502))
        let values = (0..<3).map { _ in -Float(Int.random(in: 150...1000, using: &g)) + 0.25 }
        expectValues("logsumexp of \(values)", Tensor(values).logsumexp(), [referenceLogSumExp(values)], shape: [], hints: [.overflowed])
    }

    @Test func rowsOfMinusInfinity() {
        let x = Tensor([-.infinity, -.infinity, 0, -.infinity], shape: [2, 2])
        expectValues("logsumexp of rows [−∞, −∞] and [0, −∞]", x.logsumexp(axis: 1), [-.infinity, 0], shape: [2],
                     hints: [.infinityMinusInfinity, .overflowed])

        // Drawn from the grading seed: rows of −∞ only, and rows with some −∞.
        var g = SeededGenerator(seed: graded(4503))
        let r = Int.random(in: 3...5, using: &g), c = Int.random(in: 2...5, using: &g)
        var rows: [[Float]] = [[Float](repeating: -.infinity, count: c)]
        for _ in 1..<r {
            var row: [Float] = []
            for _ in 0..<c { row.append(Int.random(in: 0..<3, using: &g) == 0 ? -.infinity : Float(Int.random(in: -50...50, using: &g))) }
            rows.append(row)
        }
        rows.shuffle(using: &g)
        expectValues("logsumexp along axis 1 of rows \(rows)", Tensor(rows.flatMap { $0 }, shape: [r, c]).logsumexp(axis: 1), rows.map(referenceLogSumExp), shape: [r],
                     hints: [.infinityMinusInfinity, .overflowed])
    }

    @Test func plusInfinityGivesPlusInfinity() {
        let r = Tensor([1, .infinity, 3]).logsumexp().item()
        observe("logsumexp of [1, ∞, 3]", r)
        #expect(r == .infinity, "logsumexp of [1, ∞, 3] is ∞, got \(r)\(r.isNaN ? " — ∞ − ∞ = NaN: shift by the maximum only when it is finite" : "")")

        // Drawn from the grading seed: a row with ∞ somewhere, and a row without.
        var g = SeededGenerator(seed: graded(4504))
        let n = Int.random(in: 3...6, using: &g)
        var first = wholeNumbers(n, &g, -99...99)
        first[Int.random(in: 0..<n, using: &g)] = .infinity
        let second = wholeNumbers(n, &g, -99...99)
        expectValues("logsumexp along axis 1 of rows \(first) and \(second)", Tensor(first + second, shape: [2, n]).logsumexp(axis: 1),
                     [.infinity, referenceLogSumExp(second)], shape: [2], hints: [.infinityMinusInfinity, .overflowed])
    }

    @Test func everyAxisOfAView() {
        var g = SeededGenerator(seed: graded(406))
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

        // Drawn from the grading seed: another matrix.
        var g = SeededGenerator(seed: graded(4505))
        let p = Int.random(in: 2...4, using: &g), q = Int.random(in: 2...4, using: &g)
        let values = wholeNumbers(p * q, &g, -9...9)
        let y = Tensor(values, shape: [p, q])
        let expected = (0..<q).map { j in referenceLogSumExp((0..<p).map { values[$0 * q + j] }) }
        expectValues("logsumexp over axis −2 of \(values) as [\(p), \(q)]", y.logsumexp(axis: -2), expected, shape: [q], hints: [])
        expectValues("logsumexp over axis 0, keepdim, of that matrix", y.logsumexp(axis: 0, keepdim: true), expected, shape: [1, q], hints: [])
    }
}

// MARK: - 4.6 softmax

@Suite struct Exercise_4_6 {
    @Test func hugeAndTinyInputs() {
        expectValues("softmax of [1000, 1000]", Tensor([1000, 1000]).softmax(), [0.5, 0.5], shape: [2], hints: [.overflowed])
        expectValues("softmax of [−1000, 0]", Tensor([-1000, 0]).softmax(), [0, 1], shape: [2], hints: [.overflowed])
        expectValues("softmax of [−1000, −1000]", Tensor([-1000, -1000]).softmax(), [0.5, 0.5], shape: [2], hints: [.overflowed])

        // Drawn from the grading seed: two huge and two very negative numbers a little apart.
        var g = SeededGenerator(seed: graded(4601))
        let a = Float(Int.random(in: 500...1000, using: &g)), d = Float(Int.random(in: -12...12, using: &g)) / 4
        for row in [[a, a + d], [-a, -a + d]] {
            expectValues("softmax of \(row)", Tensor(row).softmax(), referenceSoftmax(row), shape: [2], hints: [.overflowed])
        }
    }

    @Test func minusInfinityIsMaskedOut() {
        // How attention masks positions: a −∞ score gets probability exactly 0.
        expectValues("softmax of [0, −∞, 0]", Tensor([0, -.infinity, 0]).softmax(), [0.5, 0, 0.5], shape: [3], hints: [.overflowed])

        // Drawn from the grading seed: other scores, with −∞ in one or two places.
        var g = SeededGenerator(seed: graded(4602))
        let n = Int.random(in: 4...7, using: &g)
        var scores = wholeNumbers(n, &g, -50...50).map { $0 / 4 }
        for i in Array(0..<n).shuffled(using: &g).prefix(Int.random(in: 1...2, using: &g)) { scores[i] = -.infinity }
        expectValues("softmax of \(scores)", Tensor(scores).softmax(), referenceSoftmax(scores), shape: [n], hints: [.overflowed])
    }

    @Test func aSingleElementIsCertain() {
        expectValues("softmax along a size-1 axis", Tensor([3, -700, 800], shape: [3, 1]).softmax(axis: 1), [1, 1, 1], shape: [3, 1], hints: [.overflowed])

        // Drawn from the grading seed: another shape with a size-1 axis, holding huge and tiny numbers.
        var g = SeededGenerator(seed: graded(4603))
        let n = Int.random(in: 1...30, using: &g), m = Int.random(in: 1...30, using: &g)
        let values = wholeNumbers(n * m, &g, -1000...1000)
        expectValues("softmax along the size-1 axis of [\(n), 1, \(m)] holding numbers up to ±1000", Tensor(values, shape: [n, 1, m]).softmax(axis: 1),
                     [Float](repeating: 1, count: n * m), shape: [n, 1, m], hints: [.overflowed])
        let p = Int.random(in: 1...500, using: &g)
        expectValues("softmax along the size-1 axis 0 of a [1, \(p)] row", Tensor(wholeNumbers(p, &g, -1000...1000), shape: [1, p]).softmax(axis: 0),
                     [Float](repeating: 1, count: p), shape: [1, p], hints: [.overflowed])
    }

    @Test func everyAxisOfAView() {
        var g = SeededGenerator(seed: graded(407))
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
        var g = SeededGenerator(seed: graded(408))
        let x = Tensor((0..<60).map { _ in g.nextNormal() * 20 }, shape: [6, 10])
        let s = x.softmax(axis: 1).toArray()
        // The probabilities themselves, within this suite's softmax tolerance (every correct softmax agrees there).
        observe("softmax along axis 1 of 6 rows of 10 scores drawn from N(0, 20²)", s, shape: [6, 10], atol: 1e-6, rtol: 1e-4)
        var totals: [Float] = []
        for r in 0..<6 {
            let row = s[(r * 10)..<(r * 10 + 10)]
            let total = row.reduce(0, +)
            totals.append(total)
            #expect(Swift.abs(total - 1) < 1e-5 && row.allSatisfy { $0 >= 0 && $0.isFinite },
                    "row \(r) of softmax should be finite, non-negative and sum to 1, sums to \(total)")
        }
        observe("the sums of those 6 rows of softmax", totals, atol: 2e-5)
        observe("every probability is finite and non-negative", s.allSatisfy { $0 >= 0 && $0.isFinite })
    }
}
