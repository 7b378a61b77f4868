import Foundation
import Testing
// `@testable` for the internal kernels and helpers the exercises fill in.
import Kindling

// Hidden tests of lesson 5 (matrix multiply). The grader maps each test to its
// exercise by the suite name `Exercise_5_N`; each suite uses only its own
// exercise and earlier ones. They probe what the visible tests do not: views
// with offsets, steps and stride 0, empty and one-wide matrices, tiles that
// leave a remainder on every axis, every small stride pattern BLAS might be
// handed, and batches broadcast in every way.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

// MARK: - The tests' own reference (independent of the exercises)

/// Small random integers as Floats: sums of their products are exact in Float.
private func smallIntegers(_ count: Int, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: -5...5, using: &g)) }
}

/// A contiguous tensor of small random integers.
private func randomMatrix(_ shape: [Int], _ g: inout SeededGenerator) -> Tensor {
    Tensor(smallIntegers(shape.reduce(1, *), &g), shape: shape)
}

extension MistakeHint {
    /// The last rows or columns of the result are all zero: a partial tile was skipped.
    static let skippedEdgeTile = MistakeHint(message: "the last rows or columns are 0: the tile loops skipped the partial tile at the edge — loop with stride(from: 0, to: size, by: tile) and end each tile at min(start + tile, size).") { a, sa, e, se in
        guard sa == se, se.count == 2, se[0] > 0, se[1] > 0 else { return false }
        let (r, c) = (se[0], se[1])
        let lastRow = (0..<c).map { a[(r - 1) * c + $0] }, lastCol = (0..<r).map { a[$0 * c + c - 1] }
        let expectedRow = (0..<c).map { e[(r - 1) * c + $0] }, expectedCol = (0..<r).map { e[$0 * c + c - 1] }
        return (lastRow.allSatisfy { $0 == 0 } && expectedRow.contains { $0 != 0 })
            || (lastCol.allSatisfy { $0 == 0 } && expectedCol.contains { $0 != 0 })
    }
}

/// A hint for a product loop that assigned (`=`) where it had to add (`+=`):
/// each element then holds only its last term, A[i, k−1]·B[k−1, j].
private func lastTermOnly(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> MistakeHint {
    MistakeHint(message: "each element holds only its last term A[i, k−1]·B[k−1, j]: the sum over p must accumulate (+=) — `=` overwrites every earlier term.") { got, _, _, _ in
        guard k > 1, got.count == m * n else { return false }
        for i in 0..<m { for j in 0..<n where got[i * n + j] != a[i * k + k - 1] * b[(k - 1) * n + j] { return false } }
        return true
    }
}

/// Observes a list of integer lists (shapes, offsets) as their lengths and their entries in order.
private func observeLists(_ what: String, _ lists: [[Int]]) {
    observe("\(what) — their lengths", lists.map(\.count))
    observe("\(what) — their entries, one list after another", lists.flatMap { $0 })
}

// MARK: - 5.1 the naive triple loop

@Suite struct Exercise_5_1 {
    @Test func viewsWithOffsetsAndSteps() {
        var g = SeededGenerator(seed: graded(501))
        let big = randomMatrix([6, 9], &g)
        let a = big.sliced(axis: 1, from: 1, step: 2).sliced(axis: 0, from: 2)   // [4, 4], strides [9, 2], offset 19
        let b = randomMatrix([5, 4], &g).transposed()                            // [4, 5], strides [1, 4]
        let expected = referenceProduct(a.toArray(), b.toArray(), m: 4, k: 4, n: 5)
        expectValues("naiveMatmul of a sliced view (strides \(a.strides), offset \(a.offset)) and a transposed one (strides \(b.strides))",
                     naiveMatmul(a, b), expected, shape: [4, 5])
    }

    @Test func aBroadcastRowHasStrideZero() {
        let a = Tensor([1, 2, 3]).expanded(to: [4, 3])  // strides [0, 1]: every row is the same
        let b = Tensor([1, 0, 2, 1, -1, 0], shape: [3, 2])
        let sums: [Float] = [1 * 1 + 2 * 2 + 3 * -1, 1 * 0 + 2 * 1 + 3 * 0]  // [2, 2] in every row
        expectValues("naiveMatmul with A = [1, 2, 3] expanded to 4 rows (row stride 0)", naiveMatmul(a, b),
                     Array([[Float]](repeating: sums, count: 4).joined()), shape: [4, 2])

        // Drawn from the grading seed: another row, expanded to another number of rows, times another matrix.
        var g = SeededGenerator(seed: graded(5101))
        let (m, k, n) = (Int.random(in: 2...6, using: &g), Int.random(in: 2...5, using: &g), Int.random(in: 1...4, using: &g))
        let row = smallIntegers(k, &g), bv = smallIntegers(k * n, &g)
        expectValues("naiveMatmul with A = \(row) expanded to \(m) rows (row stride 0) and B = \(bv) as [\(k), \(n)]",
                     naiveMatmul(Tensor(row).expanded(to: [m, k]), Tensor(bv, shape: [k, n])),
                     referenceProduct(Array([[Float]](repeating: row, count: m).joined()), bv, m: m, k: k, n: n), shape: [m, n])
    }

    @Test func emptyInnerDimensionGivesZeros() {
        let c = naiveMatmul(Tensor([], shape: [2, 0]), Tensor([], shape: [0, 3]))
        expectValues("[2, 0] × [0, 3] (an empty sum is 0)", c, [Float](repeating: 0, count: 6), shape: [2, 3])

        // Drawn from the grading seed: other outer sizes.
        var g = SeededGenerator(seed: graded(5102))
        for _ in 0..<2 {
            let m = Int.random(in: 1...30, using: &g), n = Int.random(in: 1...30, using: &g)
            expectValues("[\(m), 0] × [0, \(n)] (an empty sum is 0)", naiveMatmul(Tensor([], shape: [m, 0]), Tensor([], shape: [0, n])),
                         [Float](repeating: 0, count: m * n), shape: [m, n])
        }
    }

    @Test func dotAndOuterProducts() {
        let row = Tensor([1, 2, 3, 4], shape: [1, 4]), column = Tensor([5, 6, 7, 8], shape: [4, 1])
        expectValues("[1, 4] × [4, 1] (a dot product)", naiveMatmul(row, column), [70], shape: [1, 1])
        expectValues("[4, 1] × [1, 4] (an outer product)", naiveMatmul(column, row),
                     [5, 10, 15, 20, 6, 12, 18, 24, 7, 14, 21, 28, 8, 16, 24, 32], shape: [4, 4])

        // Drawn from the grading seed: another row and column.
        var g = SeededGenerator(seed: graded(5103))
        let n = Int.random(in: 2...6, using: &g)
        let rv = smallIntegers(n, &g), cv = smallIntegers(n, &g)
        expectValues("\(rv) as [1, \(n)] × \(cv) as [\(n), 1] (a dot product)", naiveMatmul(Tensor(rv, shape: [1, n]), Tensor(cv, shape: [n, 1])),
                     referenceProduct(rv, cv, m: 1, k: n, n: 1), shape: [1, 1])
        expectValues("\(cv) as [\(n), 1] × \(rv) as [1, \(n)] (an outer product)", naiveMatmul(Tensor(cv, shape: [n, 1]), Tensor(rv, shape: [1, n])),
                     referenceProduct(cv, rv, m: n, k: 1, n: n), shape: [n, n])
    }

    @Test func rectangularShapesAgainstTheDefinition() {
        var g = SeededGenerator(seed: graded(502))
        for (m, k, n) in [(1, 7, 3), (5, 2, 1), (3, 3, 8), (9, 4, 2), (2, 11, 5)] {
            let a = smallIntegers(m * k, &g), b = smallIntegers(k * n, &g)
            expectValues("naiveMatmul [\(m), \(k)] × [\(k), \(n)]", naiveMatmul(Tensor(a, shape: [m, k]), Tensor(b, shape: [k, n])),
                         referenceProduct(a, b, m: m, k: k, n: n), shape: [m, n])
        }
    }
}

// MARK: - 5.2 the i-k-j loop order

@Suite struct Exercise_5_2 {
    @Test func accumulatesIntoWhatCHolds() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]  // 2×2 each
        var c: [Float] = [10, 20, 30, 40]
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            multiplyAddBlock(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, k: 2, n: 2, rows: 0..<2, inner: 0..<2, cols: 0..<2)
            multiplyAddBlock(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, k: 2, n: 2, rows: 0..<2, inner: 0..<2, cols: 0..<2)
        } } }
        // A·B = [[19, 22], [43, 50]], added twice to [[10, 20], [30, 40]].
        let expected: [Float] = [48, 64, 116, 140]
        let hints = [
            MistakeHint(message: "C holds A·B once: C already held [10, 20, 30, 40], and the block must be ADDED to it (C += A·B), not stored in it.") { got, _, _, _ in got == [19, 22, 43, 50] },
            MistakeHint(message: "C holds A·B + the old C only once: each call must add into C as it is, never reset it.") { got, _, _, _ in got == [29, 42, 73, 90] },
            lastTermOnly(a, b, m: 2, k: 2, n: 2),
        ]
        expectValues("C after two calls of multiplyAddBlock (C += A·B twice)", Tensor(c, shape: [2, 2]), expected, shape: [2, 2],
                     hints: hints)

        // Drawn from the grading seed: other A, B and C.
        var g = SeededGenerator(seed: graded(5201))
        let a2 = smallIntegers(4, &g), b2 = smallIntegers(4, &g), c0 = smallIntegers(4, &g).map { $0 * 10 }
        var c2 = c0
        a2.withUnsafeBufferPointer { pa in b2.withUnsafeBufferPointer { pb in c2.withUnsafeMutableBufferPointer { pc in
            multiplyAddBlock(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, k: 2, n: 2, rows: 0..<2, inner: 0..<2, cols: 0..<2)
            multiplyAddBlock(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, k: 2, n: 2, rows: 0..<2, inner: 0..<2, cols: 0..<2)
        } } }
        let product = referenceProduct(a2, b2, m: 2, k: 2, n: 2)
        expectValues("C after two calls of multiplyAddBlock (C += A·B twice) with A = \(a2), B = \(b2), C = \(c0) before", Tensor(c2, shape: [2, 2]),
                     zip(c0, product).map { $0 + 2 * $1 }, shape: [2, 2], hints: [lastTermOnly(a2, b2, m: 2, k: 2, n: 2)])
    }

    @Test func onlyTheGivenRangesChange() {
        var g = SeededGenerator(seed: graded(521))
        let (m, k, n) = (6, 5, 7)
        let a = smallIntegers(m * k, &g), b = smallIntegers(k * n, &g)
        for (rows, inner, cols) in [(1..<4, 2..<5, 3..<7), (0..<6, 0..<1, 0..<1), (5..<6, 0..<5, 2..<3), (2..<2, 0..<5, 0..<7)] {
            var c = [Float](repeating: -1, count: m * n)
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                multiplyAddBlock(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, k: k, n: n, rows: rows, inner: inner, cols: cols)
            } } }
            var expected = [Float](repeating: -1, count: m * n)
            for i in rows { for j in cols { for p in inner { expected[i * n + j] += a[i * k + p] * b[p * n + j] } } }
            expectValues("C (6×7, every element −1 before) after multiplyAddBlock(rows: \(rows), inner: \(inner), cols: \(cols)) — only C[rows, cols] may change",
                         Tensor(c, shape: [m, n]), expected, shape: [m, n])
        }
    }

    @Test func reorderedOnRandomShapesAndViews() {
        var g = SeededGenerator(seed: graded(522))
        for (m, k, n) in [(1, 1, 1), (1, 9, 1), (9, 1, 9), (13, 17, 11), (4, 32, 33)] {
            let a = randomMatrix([k, m], &g).transposed()  // a view: reorderedMatmul copies it first
            let b = randomMatrix([k, n], &g)
            let (av, bv) = (a.toArray(), b.toArray())
            expectValues("reorderedMatmul [\(m), \(k)] (a transposed view) × [\(k), \(n)]", reorderedMatmul(a, b),
                         referenceProduct(av, bv, m: m, k: k, n: n), shape: [m, n], hints: [lastTermOnly(av, bv, m: m, k: k, n: n), .transposed])
        }
    }

    @Test func emptyMatrices() {
        expectValues("reorderedMatmul [2, 0] × [0, 3]", reorderedMatmul(Tensor([], shape: [2, 0]), Tensor([], shape: [0, 3])),
                     [0, 0, 0, 0, 0, 0], shape: [2, 3])
        expectValues("reorderedMatmul [0, 4] × [4, 3]", reorderedMatmul(Tensor([], shape: [0, 4]), Tensor.ones([4, 3])),
                     [], shape: [0, 3])

        // Drawn from the grading seed: other sizes around the empty one.
        var g = SeededGenerator(seed: graded(5202))
        let (m, k, n) = (Int.random(in: 1...30, using: &g), Int.random(in: 1...9, using: &g), Int.random(in: 1...30, using: &g))
        expectValues("reorderedMatmul [\(m), 0] × [0, \(n)]", reorderedMatmul(Tensor([], shape: [m, 0]), Tensor([], shape: [0, n])),
                     [Float](repeating: 0, count: m * n), shape: [m, n])
        let wide = Int.random(in: 1...1000, using: &g)
        expectValues("reorderedMatmul [0, \(k)] × [\(k), \(wide)]", reorderedMatmul(Tensor([], shape: [0, k]), Tensor.ones([k, wide])),
                     [], shape: [0, wide])
    }

    @Test func longSumsStayAccurate() {
        // 1×4096 · 4096×1: alternating ±1 halves and quarters, exact in Float at every step.
        let k = 4096
        let a = Tensor((0..<k).map { $0 % 2 == 0 ? 0.5 : -0.25 }, shape: [1, k])
        let b = Tensor((0..<k).map { _ in 2 }, shape: [k, 1])
        expectValues("reorderedMatmul [1, 4096] × [4096, 1]", reorderedMatmul(a, b), [Float(k / 2) * 0.5], shape: [1, 1])

        // Drawn from the grading seed: another length and other quarters, still exact in Float at every step.
        var g = SeededGenerator(seed: graded(5203))
        let length = 2 * Int.random(in: 1024...4096, using: &g)
        let up = Float(Int.random(in: 1...8, using: &g)) / 4, down = Float(Int.random(in: 1...8, using: &g)) / 4
        let u = Tensor((0..<length).map { $0 % 2 == 0 ? up : -down }, shape: [1, length])
        let v = Tensor((0..<length).map { _ in 2 }, shape: [length, 1])
        expectValues("reorderedMatmul [1, \(length)] (alternating \(up) and −\(down)) × [\(length), 1] (all 2)", reorderedMatmul(u, v),
                     [Float(length / 2) * (up - down) * 2], shape: [1, 1])
    }
}

// MARK: - 5.3 tiling

@Suite struct Exercise_5_3 {
    @Test func primeSizesWithManyTileShapes() {
        var g = SeededGenerator(seed: graded(531))
        let (m, k, n) = (37, 29, 41)
        let a = randomMatrix([m, k], &g), b = randomMatrix([k, n], &g)
        let (av, bv) = (a.toArray(), b.toArray())
        let expected = referenceProduct(av, bv, m: m, k: k, n: n)
        for tiles in [MatmulTiles(rows: 8, inner: 8, cols: 8), MatmulTiles(rows: 5, inner: 7, cols: 11),
                      MatmulTiles(rows: 64, inner: 1, cols: 3), MatmulTiles(rows: 1, inner: 64, cols: 64),
                      MatmulTiles(rows: 36, inner: 28, cols: 40)] {
            expectValues("blockedMatmul [37, 29] × [29, 41] with tiles \(tiles.rows)×\(tiles.inner)×\(tiles.cols)",
                         blockedMatmul(a, b, tiles: tiles), expected, shape: [m, n], hints: [.skippedEdgeTile, lastTermOnly(av, bv, m: m, k: k, n: n)])
        }
    }

    @Test func everyInnerTileIsAdded() {
        // k = 10 in tiles of 3: four partial sums per element, the last of one term.
        let a = Tensor((1...10).map(Float.init), shape: [1, 10]), b = Tensor.ones([10, 1])
        let c = blockedMatmul(a, b, tiles: MatmulTiles(rows: 1, inner: 3, cols: 1))
        expectValues("blockedMatmul of 1…10 by ones with inner tiles of 3 (sums 6 + 15 + 24 + 10)", c, [55], shape: [1, 1],
                     hints: [MistakeHint(message: "part of the sum is missing: every tile along the inner axis must be added into C, including the last, shorter one.") { a, _, _, _ in a.first.map { $0 < 55 } ?? false }])

        // Drawn from the grading seed: another length, other numbers and another inner tile that leaves a remainder.
        var g = SeededGenerator(seed: graded(5301))
        let tile = Int.random(in: 2...6, using: &g)
        var k = Int.random(in: 7...30, using: &g)
        if k % tile == 0 { k += 1 }
        let values = (0..<k).map { _ in Float(Int.random(in: 1...9, using: &g)) }
        let total = values.reduce(0, +)
        expectValues("blockedMatmul of \(values) by ones with inner tiles of \(tile)",
                     blockedMatmul(Tensor(values, shape: [1, k]), Tensor.ones([k, 1]), tiles: MatmulTiles(rows: 1, inner: tile, cols: 1)), [total], shape: [1, 1],
                     hints: [MistakeHint(message: "part of the sum is missing: every tile along the inner axis must be added into C, including the last, shorter one.") { a, _, _, _ in a.first.map { $0 < total } ?? false }])
    }

    @Test func tilesExactlyTheSizeAndOneMore() {
        var g = SeededGenerator(seed: graded(532))
        let a = randomMatrix([16, 16], &g), b = randomMatrix([16, 16], &g)
        let expected = referenceProduct(a.toArray(), b.toArray(), m: 16, k: 16, n: 16)
        for t in [4, 8, 16, 17] {
            expectValues("blockedMatmul 16×16 with \(t)×\(t)×\(t) tiles", blockedMatmul(a, b, tiles: MatmulTiles(rows: t, inner: t, cols: t)),
                         expected, shape: [16, 16], hints: [.skippedEdgeTile])
        }
    }

    @Test func emptyAndThinMatrices() {
        let tiles = MatmulTiles(rows: 2, inner: 2, cols: 2)
        expectValues("blockedMatmul [3, 0] × [0, 2]", blockedMatmul(Tensor([], shape: [3, 0]), Tensor([], shape: [0, 2]), tiles: tiles),
                     [0, 0, 0, 0, 0, 0], shape: [3, 2])
        expectValues("blockedMatmul [0, 5] × [5, 2]", blockedMatmul(Tensor([], shape: [0, 5]), Tensor.ones([5, 2]), tiles: tiles),
                     [], shape: [0, 2])
        let column = Tensor((1...5).map(Float.init), shape: [5, 1])
        expectValues("blockedMatmul [5, 1] × [1, 5] with 2×2×2 tiles", blockedMatmul(column, column.transposed(), tiles: tiles),
                     (1...5).flatMap { i in (1...5).map { Float(i * $0) } }, shape: [5, 5], hints: [.skippedEdgeTile])

        // Drawn from the grading seed: other empty sizes, and another column times its own transpose.
        var g = SeededGenerator(seed: graded(5302))
        let m = Int.random(in: 1...9, using: &g), n = Int.random(in: 1...9, using: &g), p = Int.random(in: 3...9, using: &g)
        expectValues("blockedMatmul [\(m), 0] × [0, \(n)]", blockedMatmul(Tensor([], shape: [m, 0]), Tensor([], shape: [0, n]), tiles: tiles),
                     [Float](repeating: 0, count: m * n), shape: [m, n])
        let values = smallIntegers(p, &g)
        let seededColumn = Tensor(values, shape: [p, 1])
        expectValues("blockedMatmul \(values) as [\(p), 1] × its transpose with 2×2×2 tiles", blockedMatmul(seededColumn, seededColumn.transposed(), tiles: tiles),
                     referenceProduct(values, values, m: p, k: 1, n: p), shape: [p, p], hints: [.skippedEdgeTile])
    }
}

// MARK: - 5.4 strides to BLAS

/// Whether BLAS, reading a `rows × cols` matrix with (`transposed`, `ld`),
/// finds every element where the strided view keeps it — and `ld` is legal.
private func blasReadsTheView(rows: Int, cols: Int, rowStride: Int, colStride: Int, transposed: Bool, ld: Int) -> Bool {
    guard ld >= Swift.max(1, transposed ? rows : cols) else { return false }
    for i in 0..<rows {
        for j in 0..<cols {
            let blas = transposed ? j * ld + i : i * ld + j
            if blas != i * rowStride + j * colStride { return false }
        }
    }
    return true
}

/// Whether any (transposed, ld) lets BLAS read the view (brute force).
private func someBLASLayoutExists(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> Bool {
    let limit = Swift.max(rowStride, colStride) + rows + cols + 2
    return [false, true].contains { t in
        (1...limit).contains { blasReadsTheView(rows: rows, cols: cols, rowStride: rowStride, colStride: colStride, transposed: t, ld: $0) }
    }
}

/// Observes `blasOperand`'s `answers` for the views `cases` (rows, cols, rowStride, colStride) in
/// the form every correct solution shares: for each view whether the answer lets BLAS read it
/// (1), is nil (0) or reads the wrong elements (−1); and, for the views with both sizes ≥ 2 —
/// where only one answer is right — the answer itself, as (1 if transposed else 0, ld), or
/// (−1, −1) for nil. (With a size-1 axis several answers are right.)
private func observeBLASAnswers(_ what: String, _ cases: [(Int, Int, Int, Int)], _ answers: [(transposed: Bool, ld: Int)?]) {
    let codes = zip(cases, answers).map { c, op -> Int in
        guard let op else { return 0 }
        return blasReadsTheView(rows: c.0, cols: c.1, rowStride: c.2, colStride: c.3, transposed: op.transposed, ld: op.ld) ? 1 : -1
    }
    observe("whether blasOperand's answer lets BLAS read each of \(what) (1 yes, 0 nil, −1 a wrong layout)", codes)
    let unique = zip(cases, answers).filter { $0.0.0 >= 2 && $0.0.1 >= 2 }.flatMap { _, op in op.map { [$0.transposed ? 1 : 0, $0.ld] } ?? [-1, -1] }
    observe("blasOperand's (transposed as 1/0, ld) for each of \(what) with both sizes ≥ 2 ((−1, −1) for nil)", unique)
}

/// Random views (rows, cols, rowStride, colStride) of every kind: row-major with or without
/// gaps between rows, transposed, gaps between columns, stride 0, overlapping rows.
private func randomViews(_ count: Int, _ g: inout SeededGenerator) -> [(Int, Int, Int, Int)] {
    (0..<count).map { _ in
        let rows = Int.random(in: 2...5, using: &g), cols = Int.random(in: 2...5, using: &g)
        switch Int.random(in: 0..<6, using: &g) {
        case 0: return (rows, cols, cols + Int.random(in: 0...4, using: &g), 1)           // row-major, maybe gaps between rows
        case 1: return (rows, cols, 1, rows + Int.random(in: 0...4, using: &g))           // transposed
        case 2: let step = Int.random(in: 2...3, using: &g); return (rows, cols, cols * step, step)   // every other column
        case 3: return Bool.random(using: &g) ? (rows, cols, 0, 1) : (rows, cols, 1, 0)   // a broadcast axis
        case 4: return (rows, cols, Int.random(in: 1..<cols, using: &g), 1)               // overlapping rows
        default: return (rows, cols, Int.random(in: 0...8, using: &g), Int.random(in: 0...8, using: &g))
        }
    }
}

@Suite struct Exercise_5_4 {
    @Test func sizeOneAxesMayHaveAnyStride() {
        let cases: [(Int, Int, Int, Int)] = [(1, 5, 0, 1), (1, 5, 99, 1), (5, 1, 1, 0), (5, 1, 1, 42), (1, 1, 7, 9),
                                              (1, 4, 3, 3), (4, 1, 3, 3)]
        var answers: [(transposed: Bool, ld: Int)?] = []
        for (rows, cols, rs, cs) in cases {
            let op = blasOperand(rows: rows, cols: cols, rowStride: rs, colStride: cs)
            answers.append(op)
            let ok = op.map { blasReadsTheView(rows: rows, cols: cols, rowStride: rs, colStride: cs, transposed: $0.transposed, ld: $0.ld) } ?? false
            #expect(ok, "a \(rows)×\(cols) view with strides [\(rs), \(cs)] can be handed to BLAS (an axis of size 1 is never stepped along, so its stride is free; ld must still be ≥ the stored row length); got \(String(describing: op))")
        }
        observeBLASAnswers("the views (rows, cols, rowStride, colStride) \(cases)", cases, answers)

        // Drawn from the grading seed: one row or one column with any stride on its size-1 axis (readable unless the other stride is 0).
        var g = SeededGenerator(seed: graded(5401))
        let seeded: [(Int, Int, Int, Int)] = (0..<12).map { _ in
            let n = Int.random(in: 2...6, using: &g), free = Int.random(in: 0...99, using: &g), along = Int.random(in: 0...3, using: &g)
            return Bool.random(using: &g) ? (1, n, free, along) : (n, 1, along, free)
        }
        let seededAnswers = seeded.map { blasOperand(rows: $0.0, cols: $0.1, rowStride: $0.2, colStride: $0.3) }
        observeBLASAnswers("the views (rows, cols, rowStride, colStride) \(seeded)", seeded, seededAnswers)
        for ((rows, cols, rs, cs), op) in zip(seeded, seededAnswers) {
            let exists = someBLASLayoutExists(rows: rows, cols: cols, rowStride: rs, colStride: cs)
            let ok = op.map { blasReadsTheView(rows: rows, cols: cols, rowStride: rs, colStride: cs, transposed: $0.transposed, ld: $0.ld) } ?? !exists
            #expect(ok, "a \(rows)×\(cols) view with strides [\(rs), \(cs)] \(exists ? "can be handed to BLAS (an axis of size 1 is never stepped along, so its stride is free; ld must still be ≥ the stored row length)" : "cannot be read by BLAS as it is (nil)"); got \(String(describing: op))")
        }
    }

    @Test func agreesWithABruteForceSearch() {
        var cases: [(Int, Int, Int, Int)] = [], answers: [(transposed: Bool, ld: Int)?] = []
        for rows in 1...4 {
            for cols in 1...4 {
                for rs in 0...6 {
                    for cs in 0...6 {
                        let op = blasOperand(rows: rows, cols: cols, rowStride: rs, colStride: cs)
                        cases.append((rows, cols, rs, cs))
                        answers.append(op)
                        let exists = someBLASLayoutExists(rows: rows, cols: cols, rowStride: rs, colStride: cs)
                        if let op {
                            let ok = blasReadsTheView(rows: rows, cols: cols, rowStride: rs, colStride: cs, transposed: op.transposed, ld: op.ld)
                            #expect(ok, "\(rows)×\(cols), strides [\(rs), \(cs)]: (transposed: \(op.transposed), ld: \(op.ld)) does not read the view's elements (element [i, j] must be at i·ld + j as stored, j·ld + i transposed, with ld ≥ the stored row length)")
                            if !ok { return }  // one failing case is enough to read
                        } else {
                            #expect(!exists, "\(rows)×\(cols), strides [\(rs), \(cs)]: BLAS can read this view as it is, but blasOperand said nil (a needless copy)")
                            if exists { return }
                        }
                    }
                }
            }
        }
        observeBLASAnswers("the 784 views of 1…4 rows, 1…4 columns and strides 0…6", cases, answers)

        // Drawn from the grading seed: larger views of every kind.
        var g = SeededGenerator(seed: graded(5402))
        let seeded = randomViews(40, &g)
        let seededAnswers = seeded.map { blasOperand(rows: $0.0, cols: $0.1, rowStride: $0.2, colStride: $0.3) }
        observeBLASAnswers("40 random views \(seeded)", seeded, seededAnswers)
        for ((rows, cols, rs, cs), op) in zip(seeded, seededAnswers) {
            let exists = someBLASLayoutExists(rows: rows, cols: cols, rowStride: rs, colStride: cs)
            if let op {
                #expect(blasReadsTheView(rows: rows, cols: cols, rowStride: rs, colStride: cs, transposed: op.transposed, ld: op.ld),
                        "\(rows)×\(cols), strides [\(rs), \(cs)]: (transposed: \(op.transposed), ld: \(op.ld)) does not read the view's elements (element [i, j] must be at i·ld + j as stored, j·ld + i transposed, with ld ≥ the stored row length)")
            } else {
                #expect(!exists, "\(rows)×\(cols), strides [\(rs), \(cs)]: BLAS can read this view as it is, but blasOperand said nil (a needless copy)")
            }
        }
    }

    @Test func stridesThatNeedACopy() {
        let cases: [(Int, Int, Int, Int)] = [(2, 3, 6, 2), (3, 2, 2, 6), (3, 3, 0, 1), (3, 3, 1, 0), (2, 3, 2, 1), (3, 2, 1, 2)]
        observeBLASAnswers("the views (rows, cols, rowStride, colStride) \(cases)", cases, cases.map { blasOperand(rows: $0.0, cols: $0.1, rowStride: $0.2, colStride: $0.3) })
        for (rows, cols, rs, cs) in cases {
            #expect(blasOperand(rows: rows, cols: cols, rowStride: rs, colStride: cs) == nil,
                    "a \(rows)×\(cols) view with strides [\(rs), \(cs)] is neither row-major nor a transposed row-major matrix (gaps, stride 0 or overlapping rows): nil, so the caller copies")
        }

        // Drawn from the grading seed: views with gaps between columns, stride 0 or overlapping rows, mixed with readable ones.
        var g = SeededGenerator(seed: graded(5403))
        let seeded = randomViews(12, &g)
        let seededAnswers = seeded.map { blasOperand(rows: $0.0, cols: $0.1, rowStride: $0.2, colStride: $0.3) }
        observeBLASAnswers("12 random views \(seeded)", seeded, seededAnswers)
        for ((rows, cols, rs, cs), op) in zip(seeded, seededAnswers) where !someBLASLayoutExists(rows: rows, cols: cols, rowStride: rs, colStride: cs) {
            #expect(op == nil,
                    "a \(rows)×\(cols) view with strides [\(rs), \(cs)] is neither row-major nor a transposed row-major matrix (gaps, stride 0 or overlapping rows): nil, so the caller copies")
        }
    }

    @Test func matmulThroughAllKindsOfViews() {
        var g = SeededGenerator(seed: graded(541))
        let base = randomMatrix([8, 10], &g)
        let views: [(String, Tensor)] = [
            ("a contiguous matrix", randomMatrix([5, 6], &g)),
            ("columns 2..<8 of an 8×10 matrix (rows 10 apart)", base.sliced(axis: 1, from: 2, to: 8)),
            ("a transposed slice", randomMatrix([9, 8], &g).sliced(axis: 0, from: 1, to: 7).transposed()),
            ("every other column (BLAS cannot read it: copied)", randomMatrix([4, 12], &g).sliced(axis: 1, from: 0, step: 2)),
        ]
        let rights: [(String, Tensor)] = [
            ("a contiguous matrix", randomMatrix([6, 3], &g)),
            ("a transposed view", randomMatrix([3, 6], &g).transposed()),
            ("every other row", randomMatrix([12, 3], &g).sliced(axis: 0, from: 0, step: 2)),
            ("a broadcast row (stride 0: copied)", Tensor([1, -2, 3]).expanded(to: [6, 3])),
        ]
        for (leftName, left) in views {
            for (rightName, right) in rights {
                let m = left.shape[0]
                let expected = referenceProduct(left.toArray(), right.toArray(), m: m, k: 6, n: 3)
                expectValues("matmul of \(leftName) [\(m), 6] (strides \(left.strides)) × \(rightName) [6, 3] (strides \(right.strides))",
                             left.matmul(right), expected, shape: [m, 3])
            }
        }
    }

    @Test func emptyProducts() {
        expectValues("matmul [2, 0] × [0, 3]", Tensor([], shape: [2, 0]).matmul(Tensor([], shape: [0, 3])), [0, 0, 0, 0, 0, 0], shape: [2, 3])
        expectValues("matmul [0, 3] × [3, 4]", Tensor([], shape: [0, 3]).matmul(Tensor.ones([3, 4])), [], shape: [0, 4])

        // Drawn from the grading seed: other sizes around the empty one.
        var g = SeededGenerator(seed: graded(5404))
        let (m, k, n) = (Int.random(in: 1...30, using: &g), Int.random(in: 1...9, using: &g), Int.random(in: 1...30, using: &g))
        expectValues("matmul [\(m), 0] × [0, \(n)]", Tensor([], shape: [m, 0]).matmul(Tensor([], shape: [0, n])), [Float](repeating: 0, count: m * n), shape: [m, n])
        let wide = Int.random(in: 1...1000, using: &g)
        expectValues("matmul [0, \(k)] × [\(k), \(wide)]", Tensor([], shape: [0, k]).matmul(Tensor.ones([k, wide])), [], shape: [0, wide])
    }
}

// MARK: - 5.5 batches

/// The storage offsets the test expects for an operand's batch axes broadcast to `batch`.
private func expectedOffsets(shape: [Int], strides: [Int], offset: Int, batch: [Int]) -> [Int] {
    let lead = batch.count - shape.count
    var result: [Int] = []
    var index = [Int](repeating: 0, count: batch.count)
    let total = batch.reduce(1, *)
    for _ in 0..<total {
        var position = offset
        for (axis, size) in shape.enumerated() where size != 1 {
            position += index[lead + axis] * strides[axis]
        }
        result.append(position)
        var axis = batch.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < batch[axis] { break }
            index[axis] = 0
            axis -= 1
        }
    }
    return result
}

@Suite struct Exercise_5_5 {
    @Test func everyWayABatchAxisCanBroadcast() {
        let cases: [([Int], [Int], Int, [Int])] = [
            ([], [], 0, []),                  // no batch at all: one matrix
            ([], [], 7, [2, 2]),              // a plain matrix in a [2, 2] batch
            ([3], [20], 4, [3]),              // its own batch, with an offset
            ([3], [20], 0, [2, 3]),           // a new leading axis
            ([1, 3], [60, 20], 0, [4, 3]),    // a stretched size-1 axis
            ([2, 1], [5, 100], 1, [2, 3]),    // stretched last batch axis, odd stride
            ([2, 3], [6, 24], 0, [2, 3]),     // permuted (non-contiguous) batch axes
            ([0], [12], 0, [0]),              // an empty batch
        ]
        var results: [[Int]] = []
        for (shape, strides, offset, batch) in cases {
            let got = batchOffsets(shape: shape, strides: strides, offset: offset, batch: batch)
            results.append(got)
            let expected = expectedOffsets(shape: shape, strides: strides, offset: offset, batch: batch)
            #expect(got == expected,
                    "batchOffsets(shape: \(shape), strides: \(strides), offset: \(offset), batch: \(batch)) should be \(expected), got \(got)\(got.count != expected.count ? " — one offset per batch entry: \(expected.count) of them" : "")")
        }
        observeLists("batchOffsets for the 8 hand-written (shape, strides, offset, batch) cases", results)

        // Drawn from the grading seed: other batches, with new, stretched and permuted axes and offsets.
        var g = SeededGenerator(seed: graded(5501))
        for _ in 0..<4 {
            let batch = (0..<Int.random(in: 1...3, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let shape = batch.dropFirst(Int.random(in: 0...batch.count, using: &g)).map { Bool.random(using: &g) ? 1 : $0 }
            let strides = shape.map { _ in Int.random(in: 1...40, using: &g) }, offset = Int.random(in: 0...20, using: &g)
            let got = batchOffsets(shape: shape, strides: strides, offset: offset, batch: batch)
            observe("batchOffsets(shape: \(shape), strides: \(strides), offset: \(offset), batch: \(batch))", got)
            let expected = expectedOffsets(shape: shape, strides: strides, offset: offset, batch: batch)
            #expect(got == expected,
                    "batchOffsets(shape: \(shape), strides: \(strides), offset: \(offset), batch: \(batch)) should be \(expected), got \(got)\(got.count != expected.count ? " — one offset per batch entry: \(expected.count) of them" : "")")
        }
    }

    @Test func batchedProductsAgainstTheDefinition() {
        var g = SeededGenerator(seed: graded(551))
        let cases: [([Int], [Int])] = [([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4, 5]), ([4, 5], [3, 5, 2]),
                                      ([1, 3, 4], [2, 1, 4, 5]), ([2, 1, 2, 3], [1, 4, 3, 2]), ([3, 1, 4], [3, 4, 1])]
        for (sa, sb) in cases {
            let a = randomMatrix(sa, &g), b = randomMatrix(sb, &g)
            let c = a.matmul(b)
            let batch = (try? broadcastShapesOrNil(Array(sa.dropLast(2)), Array(sb.dropLast(2)))) ?? []
            let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
            var expected: [Float] = []
            let aOffsets = expectedOffsets(shape: Array(sa.dropLast(2)), strides: Array(referenceStrides(sa).dropLast(2)), offset: 0, batch: batch)
            let bOffsets = expectedOffsets(shape: Array(sb.dropLast(2)), strides: Array(referenceStrides(sb).dropLast(2)), offset: 0, batch: batch)
            let av = a.toArray(), bv = b.toArray()
            for (oa, ob) in zip(aOffsets, bOffsets) {
                expected += referenceProduct(Array(av[oa..<(oa + m * k)]), Array(bv[ob..<(ob + k * n)]), m: m, k: k, n: n)
            }
            expectValues("matmul \(sa) × \(sb)", c, expected, shape: batch + [m, n])
        }
    }

    @Test func transposedBatchesAndVectors() {
        var g = SeededGenerator(seed: graded(552))
        let a = randomMatrix([2, 4, 3], &g).transposed()     // [2, 3, 4], strides [12, 1, 3]
        let b = randomMatrix([3, 2, 5], &g).permuted([1, 0, 2])  // [2, 3, 5], strides [5, 10, 1]
        let weights = randomMatrix([2, 4, 5], &g)
        let c = a.matmul(weights)
        for t in 0..<2 {
            let at = a.selected(axis: 0, index: t), wt = weights.selected(axis: 0, index: t)
            expectValues("matmul of a transposed batch [2, 3, 4] (strides \(a.strides)) × [2, 4, 5], batch entry \(t)",
                         c.selected(axis: 0, index: t), referenceProduct(at.toArray(), wt.toArray(), m: 3, k: 4, n: 5), shape: [3, 5])
        }
        let v = Tensor([1, 2, 3])
        let left = v.matmul(b)  // [3] × [2, 3, 5] → [2, 5]
        var expected: [Float] = []
        for t in 0..<2 { expected += referenceProduct([1, 2, 3], b.selected(axis: 0, index: t).toArray(), m: 1, k: 3, n: 5) }
        expectValues("a vector [3] × a batch [2, 3, 5] (a permuted view)", left, expected, shape: [2, 5])
    }

    @Test func anEmptyBatch() {
        let c = Tensor([], shape: [0, 2, 3]).matmul(Tensor.ones([3, 4]))
        observe("the shape of [0, 2, 3] × [3, 4]", c.shape)
        #expect(c.shape == [0, 2, 4], "[0, 2, 3] × [3, 4] has shape [0, 2, 4], got \(c.shape)")

        // Drawn from the grading seed: other matrix sizes in an empty batch, against a plain matrix and a batch of one.
        var g = SeededGenerator(seed: graded(5502))
        let (m, k, n) = (Int.random(in: 1...300, using: &g), Int.random(in: 1...9, using: &g), Int.random(in: 1...300, using: &g))
        let empty = Tensor([], shape: [0, m, k])
        let shapes = [empty.matmul(Tensor.ones([k, n])).shape, empty.matmul(Tensor.ones([1, k, n])).shape]
        observeLists("the shapes of [0, \(m), \(k)] × [\(k), \(n)] and of [0, \(m), \(k)] × [1, \(k), \(n)]", shapes)
        #expect(shapes == [[0, m, n], [0, m, n]], "[0, \(m), \(k)] × [\(k), \(n)] and [0, \(m), \(k)] × [1, \(k), \(n)] have shape [0, \(m), \(n)], got \(shapes)")
    }
}
