import Foundation
import Testing
import Kindling

// Lesson 4 — reductions: sum, mean, max, argmax, softmax (Lessons/04-reductions.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson04           all of lesson 4
//     swift test --filter Exercise_4_3       one exercise
//
// The suites run in order, one exercise after another; an exercise that is not
// written yet stops the run with "Exercise 4.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones. (Summing a whole
// contiguous tensor needs only 4.1; summing along an axis needs 4.2, and
// along any axis but the last, 4.3; max and argmax need 4.4.)

// MARK: - Helpers

/// |a − b| ≤ 1e-5 + 1e-5·|b| for every element (and the same count).
private func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in
        x == y || Swift.abs(x - y) <= tolerance + tolerance * Swift.abs(y)
    }
}

/// A contiguous tensor of `shape` holding 0, 1, 2, …
private func numbered(_ shape: [Int]) -> Tensor {
    Tensor((0..<shape.reduce(1, *)).map { Float($0) }, shape: shape)
}

/// Every multi-index of `shape` in row-major order.
private func allIndices(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for n in shape { result = result.flatMap { prefix in (0..<n).map { prefix + [$0] } } }
    return result
}

/// The row-major position of `index` in `shape`.
private func rowMajor(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// Reduces `values` (row-major, `shape`) along `axis` with `combine`, index by
/// index: the reference the milestone compares against. Keeps the axis as size 1.
private func reduceReference(_ values: [Float], _ shape: [Int], axis: Int,
                             _ combine: ([Float]) -> Float) -> [Float] {
    var kept = shape
    kept[axis] = 1
    return allIndices(kept).map { index in
        combine((0..<shape[axis]).map { r in
            var full = index
            full[axis] = r
            return values[rowMajor(full, shape)]
        })
    }
}

@Suite("Lesson04", .serialized) struct Lesson04 {

    // MARK: 4.1 — reduced shapes

    @Suite("4.1 reducedShape") struct Exercise_4_1 {
        @Test func keepdimKeepsTheAxisAsOne() {
            let kept = reducedShape([2, 3, 4], axes: [1], keepdim: true)
            #expect(kept == [2, 1, 4],
                    "keepdim: the reduced axis stays with size 1; got \(kept)\(kept == [2, 4] ? " — keepdim is read backwards: with keepdim the axis stays as 1" : "")")
            #expect(reducedShape([2, 3, 4], axes: [1], keepdim: false) == [2, 4],
                    "without keepdim the axis disappears; got \(reducedShape([2, 3, 4], axes: [1], keepdim: false))")
            #expect(reducedShape([2, 3, 4], axes: [0, 2], keepdim: false) == [3], "got \(reducedShape([2, 3, 4], axes: [0, 2], keepdim: false))")
        }

        @Test func twoReducedAxesWithoutKeepdim() {
            let got = reducedShape([2, 3, 4, 5], axes: [0, 2], keepdim: false)
            #expect(got == [3, 5],
                    "[2, 3, 4, 5] without axes 0 and 2 is [3, 5], got \(got)\(got == [3, 4] ? " — removing axes one by one with remove(at:) shifts the later ones: walk the axes of shape once, asking whether each is reduced" : "")")
        }

        @Test func everyAxisLeavesAScalar() {
            #expect(reducedShape([2, 3], axes: [0, 1], keepdim: false) == [], "got \(reducedShape([2, 3], axes: [0, 1], keepdim: false))")
            #expect(reducedShape([2, 3], axes: [0, 1], keepdim: true) == [1, 1], "got \(reducedShape([2, 3], axes: [0, 1], keepdim: true))")
        }

        @Test func sumOfEverything() {
            // Summing a whole contiguous tensor is one fast loop: only the shape is yours.
            let x = numbered([2, 3])
            let total = x.sum()
            #expect(total.shape == [] && total.item() == 15, "0 + 1 + … + 5 = 15 as a scalar, got shape \(total.shape)")
            #expect(x.sum(axes: nil, keepdim: true).shape == [1, 1])
            #expect(x.mean().item() == 2.5)
        }
    }

    // MARK: 4.2 — the [outer, n, inner] view

    @Suite("4.2 reductionLayout") struct Exercise_4_2 {
        @Test func productsBeforeAndAfterTheAxis() {
            let middle = reductionLayout([2, 3, 4], axis: 1)
            #expect(middle == (2, 3, 4), "[2, 3, 4] around axis 1: outer 2, n 3, inner 4; got \(middle)\(middle == (4, 3, 2) ? " — outer and inner are swapped: outer comes from the axes before" : "")")
            let first = reductionLayout([2, 3, 4], axis: 0)
            #expect(first == (1, 2, 12), "around axis 0 nothing comes before (outer 1) and 3·4 = 12 after; got \(first)")
            let last = reductionLayout([2, 3, 4], axis: 2)
            #expect(last == (6, 4, 1), "around the last axis: outer 2·3 = 6, inner 1; got \(last)")
        }

        @Test func aSizeZeroMakesItsProductZero() {
            let got = reductionLayout([2, 0, 3], axis: 2)
            #expect(got == (0, 3, 1), "[2, 0, 3] around axis 2: outer 2·0 = 0 (no elements), n 3, inner 1; got \(got)\(got.outer != 0 ? " — a size 0 makes its product 0, which is correct: do not guard it away" : "")")
        }

        @Test func rowSums() {
            // Along the last axis each sum is one contiguous run: the library's fast path does the adding.
            let x = numbered([2, 3])
            let rows = x.sum(axis: 1)
            #expect(rows.shape == [2] && rows.toArray() == [3, 12], "row sums 0+1+2 and 3+4+5, got \(rows.shape) \(rows.toArray())")
            #expect(x.sum(axis: -1, keepdim: true).shape == [2, 1])
        }
    }

    // MARK: 4.3 — summing the middle axis

    @Suite("4.3 sumMiddleAxis") struct Exercise_4_3 {
        @Test func columnSums() {
            let x = numbered([2, 3])  // [[0, 1, 2], [3, 4, 5]]
            let columns = x.sum(axis: 0)
            #expect(columns.shape == [3] && columns.toArray() == [3, 5, 7], "column sums, got \(columns.shape) \(columns.toArray())")
            #expect(x.sum(axis: 0, keepdim: true).shape == [1, 3])
            #expect(x.mean(axis: 0).toArray() == [1.5, 2.5, 3.5], "got \(x.mean(axis: 0).toArray())")
        }

        @Test func manySmallNumbersAddUpExactly() {
            let x = Tensor([Float](repeating: 0.1, count: 400_000), shape: [200_000, 2])
            let s = x.sum(axis: 0).toArray()
            #expect(s.count == 2 && s.allSatisfy { Swift.abs($0 - 20_000) <= 0.01 },
                    "200,000 copies of 0.1 add up to 20000, got \(s) — accumulate in Double and convert to Float once per output: a Float sum loses the small numbers' digits")
        }

        @Test func theMiddleOfThree() {
            let x = numbered([2, 3, 2])
            let s = x.sum(axis: 1)
            // out[o, i] = x[o, 0, i] + x[o, 1, i] + x[o, 2, i]
            #expect(s.shape == [2, 2] && s.toArray() == [6, 9, 24, 27], "expected [2, 2] holding [6, 9, 24, 27], got \(s.shape) \(s.toArray())\(s.toArray() == [6, 9, 30, 36] ? " — the second block added onto the first one's sums: each output row must start from 0" : "")")
            let both = x.sum(axes: [0, 2])
            #expect(both.toArray() == [14, 22, 30], "summing axes 0 and 2 leaves one number per middle index, got \(both.toArray())")
        }
    }

    // MARK: 4.4 — argmax

    @Suite("4.4 extremeIndices") struct Exercise_4_4 {
        @Test func firstIndexOfTheLargest() {
            let x = Tensor([1, 5, 2, 7, 0, 7], shape: [2, 3])
            #expect(x.argmax(axis: 1).toArray() == [1, 0], "row 1 has 7 twice: the first one wins; got \(x.argmax(axis: 1).toArray())\(x.argmax(axis: 1).toArray() == [1, 2] ? " — use strict comparisons (v > best): with >= ties go to the last index" : "")")
            #expect(x.argmin(axis: 1).toArray() == [0, 1], "got \(x.argmin(axis: 1).toArray())")
            #expect(x.argmax(axis: 0).toArray() == [1, 0, 1], "down the columns, got \(x.argmax(axis: 0).toArray())")
            #expect(x.argmax().item() == 3, "the flattened tensor's largest is at position 3")
        }

        @Test func negativeRowsAndNaN() {
            let negative = Tensor([-3, -1, -2]).argmax().item()
            #expect(negative == 1, "the largest of [−3, −1, −2] is at index 1, got \(negative)\(negative == 0 ? " — best started at 0, not at the row's first element: start best at x[r = 0], not at 0" : "")")
            let withNaN = Tensor([1, .nan, 3, .nan])
            #expect(withNaN.argmax().item() == 1 && withNaN.argmin().item() == 1,
                    "argmax and argmin of [1, nan, 3, nan] are both 1: a NaN beats every number, and the first NaN wins; got \(withNaN.argmax().item()) and \(withNaN.argmin().item())")
        }

        @Test func maxAndMin() {
            let x = Tensor([1, 5, 2, 7, 0, 7], shape: [2, 3])
            #expect(x.max(axis: 1).toArray() == [5, 7])
            #expect(x.max(axis: 0, keepdim: true).shape == [1, 3])
            #expect(x.min().item() == 0 && x.max().item() == 7)
        }
    }

    // MARK: 4.5 — logsumexp

    @Suite("4.5 logsumexp") struct Exercise_4_5 {
        @Test func smallNumbers() {
            let lse = Tensor([1, 2, 3]).logsumexp()
            #expect(lse.shape == [] && close([lse.item()], [3.4076059]), "log(e¹ + e² + e³) = 3.4076059, got \(lse.toArray())")
        }

        @Test func hugeAndTinyNumbersStayFinite() {
            let big = Tensor([1000, 1000]).logsumexp().item()
            #expect(close([big], [1000 + Float(M_LN2)]), "log(2·e¹⁰⁰⁰) = 1000 + ln 2; got \(big) — e¹⁰⁰⁰ overflows: subtract the maximum first")
            let small = Tensor([-1000, -1000]).logsumexp().item()
            #expect(close([small], [-1000 + Float(M_LN2)]), "log(2·e⁻¹⁰⁰⁰) = −1000 + ln 2; got \(small)")
        }

        @Test func alongAnAxis() {
            let m = Tensor([1, 2, 3, 1000, 1000, 1000], shape: [2, 3])
            let rows = m.logsumexp(axis: 1, keepdim: true)
            #expect(rows.shape == [2, 1] && close(rows.toArray(), [3.4076059, 1000 + 1.0986123]),
                    "expected [2, 1] holding [3.4076059, 1001.0986], got \(rows.shape) \(rows.toArray())\(rows.shape == [2] ? " — keepdim: true must keep the axis: squeeze it only when keepdim is false" : "")")
        }

        @Test func aRowOfMinusInfinity() {
            let lse = Tensor([-Float.infinity, -.infinity]).logsumexp().item()
            #expect(lse == -.infinity, "log(e^−∞ + e^−∞) = log 0 = −∞, got \(lse)\(lse.isNaN ? " — −∞ − (−∞) is NaN: replace a non-finite maximum by 0 before subtracting it" : "")")
        }
    }

    // MARK: 4.6 — softmax

    @Suite("4.6 softmax") struct Exercise_4_6 {
        @Test func smallNumbers() {
            let s = Tensor([1, 2, 3]).softmax()
            #expect(close(s.toArray(), [0.09003057, 0.24472847, 0.66524096]), "got \(s.toArray())")
        }

        @Test func hugeNumbersStayFinite() {
            let s = Tensor([1000, 1001]).softmax()
            #expect(close(s.toArray(), [0.26894142, 0.7310586]), "got \(s.toArray()) — e¹⁰⁰⁰ overflows: subtract the maximum first")
        }

        @Test func alongTheRowsOfASquareMatrix() {
            let s = Tensor([1, 2, 1, 4], shape: [2, 2]).softmax(axis: 1).toArray()
            #expect(close(s, [0.26894142, 0.7310586, 0.047425874, 0.95257413]),
                    "each row of softmax(axis: 1) sums to 1: expected [0.2689, 0.7311, 0.0474, 0.9526], got \(s)\(close([s[0] + s[1]], [1]) ? "" : " — the sums lost their axis and were divided down the columns: e.sum(axis: a, keepdim: true)")")
        }

        @Test func alongEitherAxis() {
            let m = Tensor([1, 2, 3, 1, 1, 1], shape: [2, 3])
            #expect(close(m.softmax(axis: 1).toArray(), [0.09003057, 0.24472847, 0.66524096, 1.0 / 3, 1.0 / 3, 1.0 / 3]),
                    "softmax along the rows, got \(m.softmax(axis: 1).toArray())")
            #expect(close(m.softmax(axis: 0).toArray(), [0.5, 0.7310586, 0.8807971, 0.5, 0.26894143, 0.11920292]),
                    "softmax down the columns, got \(m.softmax(axis: 0).toArray())")
        }
    }

    // MARK: Milestone — random reductions

    // The end of lesson 4: random shapes and layouts, every axis, sum / mean /
    // max / argmax / softmax against a reference computed index by index.
    @Suite("Milestone: random reductions") struct Properties {
        @Test func everyReductionAlongEveryAxis() {
            var g = SeededGenerator(seed: 41)
            for trial in 0..<150 {
                let rank = Int.random(in: 1...4, using: &g)
                let shape = (0..<rank).map { _ in Int.random(in: 1...5, using: &g) }
                // Small whole numbers with ties, so argmax has to pick the first.
                let values = (0..<shape.reduce(1, *)).map { _ in Float(Int.random(in: -4...4, using: &g)) }
                // Half the time read through a permuted view, so the input is not contiguous.
                let order = Bool.random(using: &g) ? Array(0..<rank).shuffled(using: &g) : Array(0..<rank)
                var baseShape = shape
                for (i, a) in order.enumerated() { baseShape[a] = shape[i] }
                var stored = [Float](repeating: 0, count: values.count)
                for index in allIndices(shape) {
                    var base = [Int](repeating: 0, count: rank)
                    for (i, a) in order.enumerated() { base[a] = index[i] }
                    stored[rowMajor(base, baseShape)] = values[rowMajor(index, shape)]
                }
                let x = Tensor(stored, shape: baseShape).permuted(order)
                let axis = Int.random(in: 0..<rank, using: &g)
                var kept = shape
                kept[axis] = 1
                let label = "trial \(trial) (seed 41): shape \(shape) (read through permuted(\(order))), axis \(axis)"
                let checks: [(String, Tensor, [Float], Float)] = [
                    ("sum", x.sum(axis: axis, keepdim: true), reduceReference(values, shape, axis: axis) { $0.reduce(0, +) }, 1e-6),
                    ("mean", x.mean(axis: axis, keepdim: true),
                     reduceReference(values, shape, axis: axis) { $0.reduce(0, +) / Float($0.count) }, 1e-6),
                    ("max", x.max(axis: axis, keepdim: true), reduceReference(values, shape, axis: axis) { $0.max()! }, 0),
                    ("argmax", x.argmax(axis: axis, keepdim: true),
                     reduceReference(values, shape, axis: axis) { Float($0.firstIndex(of: $0.max()!)!) }, 0),
                    ("argmin", x.argmin(axis: axis, keepdim: true),
                     reduceReference(values, shape, axis: axis) { Float($0.firstIndex(of: $0.min()!)!) }, 0),
                    ("logsumexp", x.logsumexp(axis: axis, keepdim: true),
                     reduceReference(values, shape, axis: axis) { row in Float(Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1)) })) }, 1e-5),
                ]
                for (name, result, expected, tolerance) in checks {
                    let ok = result.shape == kept && close(result.toArray(), expected, tolerance: tolerance)
                    #expect(ok, "\(label): \(name) should have shape \(kept) and elements \(expected.prefix(10)); got \(result.shape), \(result.toArray().prefix(10))")
                    if !ok { return }  // one failing case is enough to read
                }
                let s = x.softmax(axis: axis)
                let sums = reduceReference(s.toArray(), shape, axis: axis) { $0.reduce(0, +) }
                let ok = s.shape == shape && sums.allSatisfy { Swift.abs($0 - 1) < 1e-5 } && s.toArray().allSatisfy { $0 > 0 }
                #expect(ok, "\(label): softmax should keep the shape and give positive entries summing to 1 along the axis; sums \(sums.prefix(10))")
                if !ok { return }
            }
        }
    }
}
