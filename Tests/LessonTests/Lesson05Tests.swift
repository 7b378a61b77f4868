import Foundation
import Testing
// `@testable` for the kernels and helpers the exercises fill in
// (`multiplyAddBlock`, `blasOperand`, `batchOffsets`), which the library keeps internal.
import Kindling

// Lesson 5 — matrix multiply (Lessons/05-matmul.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson05           all of lesson 5
//     swift test --filter Exercise_5_3       one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 5.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones: every product is
// checked against a reference the test computes itself, in Double.

// MARK: - Helpers

/// Row-major A (m×k) × B (k×n), summed in Double: the tests' own reference.
private func referenceProduct(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var total = 0.0
            for p in 0..<k { total += Double(a[i * k + p]) * Double(b[p * n + j]) }
            c[i * n + j] = Float(total)
        }
    }
    return c
}

/// Small random integers as Floats: products of them are exact, so any
/// difference is a bug, not rounding.
private func integers(_ count: Int, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: -4...4, using: &g)) }
}

/// The first position where `got` and `expected` differ by more than
/// `tolerance`, described for a failure message; `nil` when they agree.
private func firstMismatch(_ got: Tensor, _ expected: [Float], shape: [Int], tolerance: Float = 1e-4) -> String? {
    guard got.shape == shape else { return "expected shape \(shape), got \(got.shape)" }
    let values = got.toArray()
    let cols = shape.last ?? 1
    for (i, (x, e)) in zip(values, expected).enumerated() where !(Swift.abs(x - e) <= tolerance * Swift.max(1, Swift.abs(e))) {
        return "element [\(i / Swift.max(cols, 1)), \(i % Swift.max(cols, 1))] should be \(e), got \(x)"
    }
    return nil
}

@Suite("Lesson05", .serialized) struct Lesson05 {

    // MARK: 5.1 — the naive triple loop

    @Suite("5.1 naiveKernel") struct Exercise_5_1 {
        @Test func aTwoByThreeTimesAThreeByTwo() {
            let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
            let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
            let c = naiveMatmul(a, b)
            // Row 0 of A · column 0 of B: 1·7 + 2·9 + 3·11 = 58.
            #expect(c.shape == [2, 2], "a [2, 3] × [3, 2] product has shape [2, 2], got \(c.shape)")
            #expect(c.toArray() == [58, 64, 139, 154],
                    "C[i, j] = Σₚ A[i, p]·B[p, j]: expected [58, 64, 139, 154], got \(c.toArray())")
        }

        @Test func squareProductNamesTheMixUp() {
            let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
            let c = naiveMatmul(a, b).toArray()
            let cause = c == [17, 23, 39, 53] ? " — that is A·Bᵀ: read b[p, j], not b[j, p]"
                : c == [19, 43, 22, 50] ? " — C came out transposed: store into c[i * n + j], not c[j * m + i]" : ""
            #expect(c == [19, 22, 43, 50], "[[1, 2], [3, 4]] × [[5, 6], [7, 8]] = [[19, 22], [43, 50]], got \(c)\(cause)")
        }

        @Test func readsViewsThroughTheirStrides() {
            // Bᵀ as a transposed view (strides [1, 3]): nothing is copied.
            let b = Tensor([7, 9, 11, 8, 10, 12], shape: [2, 3]).transposed()
            let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
            let c = naiveMatmul(a, b)
            #expect(c.toArray() == [58, 64, 139, 154],
                    "B is a transposed view with strides \(b.strides): read B[p, j] at p·rowStride + j·colStride; got \(c.toArray())")
        }

        @Test func randomShapes() {
            var g = SeededGenerator(seed: 51)
            for (m, k, n) in [(1, 1, 1), (3, 5, 2), (4, 1, 6), (7, 8, 3)] {
                let a = integers(m * k, &g), b = integers(k * n, &g)
                let c = naiveMatmul(Tensor(a, shape: [m, k]), Tensor(b, shape: [k, n]))
                let problem = firstMismatch(c, referenceProduct(a, b, m: m, k: k, n: n), shape: [m, n])
                #expect(problem == nil, "[\(m), \(k)] × [\(k), \(n)]: \(problem ?? "")")
            }
        }
    }

    // MARK: 5.2 — the i-k-j loop order

    @Suite("5.2 multiplyAddBlock") struct Exercise_5_2 {
        @Test func reorderedMatchesTheDefinition() {
            var g = SeededGenerator(seed: 52)
            for (m, k, n) in [(1, 1, 1), (2, 3, 2), (5, 7, 3), (8, 8, 8), (3, 1, 9)] {
                let a = integers(m * k, &g), b = integers(k * n, &g)
                let c = reorderedMatmul(Tensor(a, shape: [m, k]), Tensor(b, shape: [k, n]))
                let problem = firstMismatch(c, referenceProduct(a, b, m: m, k: k, n: n), shape: [m, n])
                #expect(problem == nil, "[\(m), \(k)] × [\(k), \(n)]: \(problem ?? "")")
            }
        }

        @Test func addsIntoCAndOnlyInsideTheRanges() {
            // A 2×2 block of a 3×4 C: rows 1..<3, columns 1..<3, and only p in 0..<1.
            let a: [Float] = [1, 2, 3, 4, 5, 6]          // 3×2
            let b: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]    // 2×4
            var c = [Float](repeating: 100, count: 12)   // 3×4, already holding 100s
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        multiplyAddBlock(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, k: 2, n: 4,
                                         rows: 1..<3, inner: 0..<1, cols: 1..<3)
                    }
                }
            }
            // C[i, j] += A[i, 0]·B[0, j] for i in 1, 2 and j in 1, 2; everything else untouched.
            let expected: [Float] = [100, 100, 100, 100,
                                     100, 106, 109, 100,
                                     100, 110, 115, 100]
            #expect(c == expected,
                    "multiplyAddBlock must ADD A[i, p]·B[p, j] into C (+=) for i in rows, p in inner, j in cols, and touch nothing else; expected \(expected), got \(c)")
        }
    }

    // MARK: 5.3 — tiling

    @Suite("5.3 blockedKernel") struct Exercise_5_3 {
        @Test func tilesThatDoNotDivideTheSizes() {
            var g = SeededGenerator(seed: 53)
            let (m, k, n) = (7, 10, 9)
            let a = integers(m * k, &g), b = integers(k * n, &g)
            let expected = referenceProduct(a, b, m: m, k: k, n: n)
            for tiles in [MatmulTiles(rows: 2, inner: 3, cols: 4), MatmulTiles(rows: 1, inner: 1, cols: 1),
                          MatmulTiles(rows: 3, inner: 4, cols: 5)] {
                let c = blockedMatmul(Tensor(a, shape: [m, k]), Tensor(b, shape: [k, n]), tiles: tiles)
                let problem = firstMismatch(c, expected, shape: [m, n])
                var cause = ""
                if problem != nil {
                    let got = c.toArray()
                    let fullRows = m / tiles.rows * tiles.rows, fullCols = n / tiles.cols * tiles.cols
                    var rowsZero = fullRows < m, colsZero = fullCols < n
                    for i in 0..<m {
                        for j in 0..<n where got[i * n + j] != 0 {
                            if i >= fullRows { rowsZero = false }
                            if j >= fullCols { colsZero = false }
                        }
                    }
                    if rowsZero || colsZero {
                        cause = " — the last \(rowsZero ? "rows" : "columns") of C are 0: the partial tile at the edge was skipped (tile starts go up to the size itself, stride(from: 0, to: m, by: tile))"
                    } else if k % tiles.inner != 0 {
                        cause = " — part of the sums is missing: the last tile along k was skipped (it is smaller: min(p0 + tiles.inner, k))"
                    }
                }
                #expect(problem == nil,
                        "[7, 10] × [10, 9] with tiles \(tiles.rows)×\(tiles.inner)×\(tiles.cols): \(problem ?? "") — the last tile along each axis is smaller (min(start + tile, size))\(cause)")
            }
        }

        @Test func tilesLargerThanTheMatrices() {
            var g = SeededGenerator(seed: 54)
            let a = integers(3 * 4, &g), b = integers(4 * 2, &g)
            let c = blockedMatmul(Tensor(a, shape: [3, 4]), Tensor(b, shape: [4, 2]))
            let problem = firstMismatch(c, referenceProduct(a, b, m: 3, k: 4, n: 2), shape: [3, 2])
            #expect(problem == nil, "[3, 4] × [4, 2] with the default tiles (one tile covers everything): \(problem ?? "")")
        }
    }

    // MARK: 5.4 — strides to BLAS

    @Suite("5.4 blasOperand") struct Exercise_5_4 {
        @Test func rowMajorAndTransposed() {
            let stored = blasOperand(rows: 2, cols: 3, rowStride: 3, colStride: 1)
            #expect(stored?.transposed == false && stored?.ld == 3,
                    "a contiguous 2×3 matrix is read as stored with leading dimension 3; got \(String(describing: stored))")
            let transposed = blasOperand(rows: 3, cols: 2, rowStride: 1, colStride: 3)
            #expect(transposed?.transposed == true && transposed?.ld == 3,
                    "the transpose of a contiguous 2×3 matrix (shape [3, 2], strides [1, 3]) is 'transposed' with leading dimension 3; got \(String(describing: transposed))")
        }

        @Test func paddedRowsAndCopies() {
            // Columns 0..<3 of a 4×5 matrix: rows 5 apart.
            let padded = blasOperand(rows: 4, cols: 3, rowStride: 5, colStride: 1)
            #expect(padded?.transposed == false && padded?.ld == 5,
                    "rows 5 apart: leading dimension 5; got \(String(describing: padded))")
            #expect(blasOperand(rows: 2, cols: 3, rowStride: 6, colStride: 2) == nil,
                    "every other column (column stride 2) fits neither layout: nil, the caller copies")
        }

        @Test func sizeOneAxesHaveAnyStride() {
            // Column 2 of a 2×5 matrix, as a [2, 1] view whose column stride is whatever slicing left.
            let column = blasOperand(rows: 2, cols: 1, rowStride: 5, colStride: 7)
            #expect(column?.transposed == false && column?.ld == 5,
                    "a 2×1 view with row stride 5 is read as stored with ld 5, got \(String(describing: column)) — an axis of size 1 is never stepped along: its stride does not matter")
            // A broadcast row: stride 0 on the size-1 row axis.
            let row = blasOperand(rows: 1, cols: 3, rowStride: 0, colStride: 1)
            let valid = row.map { $0.transposed ? $0.ld == 1 : $0.ld >= 3 } ?? false
            #expect(valid, "a 1×3 row with row stride 0 is read as stored with ld 3, got \(String(describing: row))\(row?.transposed == false ? " — BLAS insists on ld ≥ the length of a stored row: when rows == 1, report ld = max(cols, 1)" : "")")
        }

        @Test func matmulOfViewsMatchesTheDefinition() {
            var g = SeededGenerator(seed: 55)
            let a = integers(4 * 3, &g), b = integers(5 * 4, &g)
            // Aᵀ (3×4) and Bᵀ (4×5) as transposed views: BLAS reads them as they are.
            let at = Tensor(a, shape: [4, 3]).transposed(), bt = Tensor(b, shape: [5, 4]).transposed()
            var aT = [Float](repeating: 0, count: 12), bT = [Float](repeating: 0, count: 20)
            for i in 0..<4 { for j in 0..<3 { aT[j * 4 + i] = a[i * 3 + j] } }
            for i in 0..<5 { for j in 0..<4 { bT[j * 5 + i] = b[i * 4 + j] } }
            let problem = firstMismatch(at.matmul(bt), referenceProduct(aT, bT, m: 3, k: 4, n: 5), shape: [3, 5])
            #expect(problem == nil, "Aᵀ × Bᵀ through transposed views: \(problem ?? "")")
        }
    }

    // MARK: 5.5 — batches

    @Suite("5.5 batchOffsets") struct Exercise_5_5 {
        @Test func theDocExample() {
            let offsets = batchOffsets(shape: [2, 1], strides: [12, 12], offset: 0, batch: [2, 3])
            #expect(offsets == [0, 0, 0, 12, 12, 12],
                    "a [2, 1] batch broadcast to [2, 3]: the size-1 axis repeats its matrix; expected [0, 0, 0, 12, 12, 12], got \(offsets)\(offsets.count == 6 && offsets[1] != 0 ? " — a stretched size-1 batch axis must get stride 0: expand the strides with broadcastStrides (lesson 3)" : "")")
        }

        @Test func aMissingBatchAxisRepeatsTheMatrix() {
            let offsets = batchOffsets(shape: [], strides: [], offset: 5, batch: [3])
            #expect(offsets == [5, 5, 5], "a plain matrix (no batch axes) at offset 5 in a batch of 3: [5, 5, 5], got \(offsets)\(offsets == [0, 0, 0] ? " — start from the operand's offset" : "")")
        }

        @Test func batchedMatmulWithBroadcasting() {
            var g = SeededGenerator(seed: 56)
            let a = integers(2 * 1 * 3 * 4, &g), b = integers(3 * 4 * 2, &g)
            let c = Tensor(a, shape: [2, 1, 3, 4]).matmul(Tensor(b, shape: [3, 4, 2]))
            #expect(c.shape == [2, 3, 3, 2], "[2, 1, 3, 4] × [3, 4, 2]: batch [2, 1] and [3] broadcast to [2, 3]; got shape \(c.shape)")
            guard c.shape == [2, 3, 3, 2] else { return }
            for i in 0..<2 {
                for j in 0..<3 {
                    let expected = referenceProduct(Array(a[(i * 12)..<(i * 12 + 12)]), Array(b[(j * 8)..<(j * 8 + 8)]), m: 3, k: 4, n: 2)
                    let got = c.selected(axis: 0, index: i).selected(axis: 0, index: j)
                    let problem = firstMismatch(got, expected, shape: [3, 2])
                    #expect(problem == nil, "batch entry [\(i), \(j)] should be A[\(i), 0] × B[\(j)]: \(problem ?? "")")
                }
            }
        }
    }

    // MARK: Milestone — four products, one answer

    // The lesson's speed milestone (blockedMatmul at 10% or more of BLAS) is a
    // measurement, not a test: `kindling bench --only lesson5` in release mode.
    // Here the four versions must agree on a product large enough to cross
    // several tiles in every direction.
    @Suite("Milestone: four products agree") struct Milestone {
        @Test func naiveReorderedBlockedAndBLASAgree() {
            let n = 96
            let (a, b) = withSeed(5) { (Tensor.randn([n, n]), Tensor.randn([n, n])) }
            let blas = a.matmul(b).toArray()
            for (name, product) in [("naiveMatmul", naiveMatmul(a, b)), ("reorderedMatmul", reorderedMatmul(a, b)),
                                    ("blockedMatmul", blockedMatmul(a, b))] {
                let worst = zip(product.toArray(), blas).map { Swift.abs($0 - $1) }.max() ?? .infinity
                #expect(product.shape == [n, n] && worst < 1e-3,
                        "\(name) should agree with BLAS at \(n)×\(n): shape \(product.shape), largest difference \(worst)")
            }
        }
    }
}
