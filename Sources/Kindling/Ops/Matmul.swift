import CBLAS

// Matrix multiplication (lesson 5). The definition is one line,
//
//     C[i, j] = Σₚ A[i, p] · B[p, j]
//
// (p runs over the inner size k; the loop orders keep their textbook names,
// i-j-k and i-k-j, with k standing for p.)
//
// and this file holds it three times, from slow to fast:
// - `naiveMatmul`: the textbook triple loop, read through strides (5.1);
// - `reorderedMatmul`, `blockedMatmul`: the same sums in an order that walks
//   memory contiguously and reuses what is already in cache (5.2, 5.3);
// - `Tensor.matmul`: the FAST path, OpenBLAS's `sgemm`, which is tiled for
//   caches, registers and vector units. BLAS reads a matrix through a *leading
//   dimension* — the stride between rows — so a transposed view is passed as
//   "transposed" with its existing strides, never copied (5.4), and a batch of
//   products is one `sgemm` call per matrix (5.5).

// MARK: - The teaching kernels: loops you can read

/// A matrix seen through raw memory: element `[i, j]` lives at
/// `base[i·rowStride + j·colStride]` — lesson 2's `storageOffset` for two axes.
struct MatrixView {
    let base: UnsafePointer<Float>
    let rowStride: Int
    let colStride: Int

    /// The last two axes of `t`, starting at its offset. The caller keeps `t` alive.
    init(_ t: Tensor) {
        base = UnsafePointer(t.storage.base + t.offset)
        rowStride = t.strides[t.rank - 2]
        colStride = t.strides[t.rank - 1]
    }

    @inline(__always) subscript(i: Int, j: Int) -> Float { base[i * rowStride + j * colStride] }
}

/// C = A × B with the textbook loops (i-j-k order): every element of the
/// m×n result `c` (contiguous) is the dot product of row i of A and column j
/// of B. The innermost loop steps down a column of B — a new cache line per
/// step when B is row-major — and is one long dependent chain of additions
/// the compiler may not reorder, so it cannot use the vector units.
func naiveKernel(_ a: MatrixView, _ b: MatrixView, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int) {
    // BEGIN EXERCISE 5.1 — the textbook triple loop (Lessons/05-matmul.md)
    for i in 0..<m {
        for j in 0..<n {
            var total: Float = 0
            for p in 0..<k { total += a[i, p] * b[p, j] }
            c[i * n + j] = total
        }
    }
    // END EXERCISE 5.1
}

/// C[rows, cols] += A[rows, inner] · B[inner, cols] on contiguous row-major
/// matrices (A is m×k, B is k×n, C is m×n), in i-k-j order: for each row i
/// and each p, row p of B, scaled by A[i, p], is added to row i of C. The
/// innermost loop walks two rows — contiguous memory — and its iterations
/// are independent, so the compiler turns it into vector instructions.
public func multiplyAddBlock(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                             k: Int, n: Int, rows: Range<Int>, inner: Range<Int>, cols: Range<Int>) {
    // BEGIN EXERCISE 5.2 — i-k-j: the loop order that walks rows (Lessons/05-matmul.md)
    for i in rows {
        let cRow = c + i * n  // row pointers: no index arithmetic (and no overflow checks) in the inner loop
        for p in inner {
            let aip = a[i * k + p]
            let bRow = b + p * n
            for j in cols { cRow[j] += aip * bRow[j] }
        }
    }
    // END EXERCISE 5.2
}

/// The tile sizes of `blockedMatmul`: how many rows of A, columns of A (rows
/// of B) and columns of B one tile covers.
public struct MatmulTiles: Sendable, Equatable {
    public var rows: Int, inner: Int, cols: Int
    /// Tiles of `rows × inner` (A), `inner × cols` (B), `rows × cols` (C).
    public init(rows: Int = 32, inner: Int = 128, cols: Int = 256) {
        require(rows > 0 && inner > 0 && cols > 0, "MatmulTiles: sizes must be positive, got \(rows), \(inner), \(cols)")
        (self.rows, self.inner, self.cols) = (rows, inner, cols)
    }
}

/// C += A × B on contiguous row-major matrices, tile by tile: the i-k-j
/// loops of `multiplyAddBlock` run over one `tiles.rows × tiles.inner` piece
/// of A and one `tiles.inner × tiles.cols` piece of B at a time, small enough
/// to stay in cache while they are reused. The last tile along an axis may
/// be smaller.
func blockedKernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                   m: Int, n: Int, k: Int, tiles: MatmulTiles) {
    // BEGIN EXERCISE 5.3 — tiling: reuse what is in cache (Lessons/05-matmul.md)
    for i0 in stride(from: 0, to: m, by: tiles.rows) {
        for p0 in stride(from: 0, to: k, by: tiles.inner) {
            for j0 in stride(from: 0, to: n, by: tiles.cols) {
                multiplyAddBlock(a, b, c, k: k, n: n,
                                 rows: i0..<Swift.min(i0 + tiles.rows, m),
                                 inner: p0..<Swift.min(p0 + tiles.inner, k),
                                 cols: j0..<Swift.min(j0 + tiles.cols, n))
            }
        }
    }
    // END EXERCISE 5.3
}

/// The sizes (m, k, n) of the product of an m×k and a k×n matrix, checked.
private func matrixProductSizes(_ a: Tensor, _ b: Tensor, op: String) -> (m: Int, k: Int, n: Int) {
    require(a.rank == 2 && b.rank == 2, "\(op): \(a.shape) × \(b.shape): both operands must be matrices (rank 2)")
    require(a.shape[1] == b.shape[0],
            "\(op): \(a.shape) × \(b.shape): inner dimensions \(a.shape[1]) and \(b.shape[0]) differ")
    return (a.shape[0], a.shape[1], b.shape[1])
}

/// The textbook triple loop: C = A × B for 2-D tensors of any strides. Slow
/// (no cache reuse, no vector units) but obviously right — lesson 5's
/// starting point and the tests' reference. No autograd.
public func naiveMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n) = matrixProductSizes(a, b, op: "naiveMatmul")
    let c = Tensor.zeros([m, n])
    withExtendedLifetime((a, b)) {  // the views read through pointers into a's and b's storage
        naiveKernel(MatrixView(a), MatrixView(b), c.storage.base, m: m, n: n, k: k)
    }
    return c
}

/// C = A × B with the loops in i-k-j order over contiguous copies of A and B
/// (a view is copied first). No autograd.
public func reorderedMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n) = matrixProductSizes(a, b, op: "reorderedMatmul")
    let a = a.detach().contiguous(), b = b.detach().contiguous()
    let c = Tensor.zeros([m, n])
    withExtendedLifetime((a, b)) {
        multiplyAddBlock(a.storage.base + a.offset, b.storage.base + b.offset, c.storage.base,
                         k: k, n: n, rows: 0..<m, inner: 0..<k, cols: 0..<n)
    }
    return c
}

/// C = A × B in i-k-j order, tile by tile (cache blocking), over contiguous
/// copies of A and B. No autograd.
public func blockedMatmul(_ a: Tensor, _ b: Tensor, tiles: MatmulTiles = MatmulTiles()) -> Tensor {
    let (m, k, n) = matrixProductSizes(a, b, op: "blockedMatmul")
    let a = a.detach().contiguous(), b = b.detach().contiguous()
    let c = Tensor.zeros([m, n])
    withExtendedLifetime((a, b)) {
        blockedKernel(a.storage.base + a.offset, b.storage.base + b.offset, c.storage.base,
                      m: m, n: n, k: k, tiles: tiles)
    }
    return c
}

// MARK: - The fast path: BLAS, reading views through their strides

/// How to hand a `rows × cols` matrix view to BLAS without copying it: read
/// as stored (row-major, `transposed: false`) or as the transpose of a
/// row-major matrix (`transposed: true`), with its leading dimension `ld`
/// (the stride between the stored rows). `nil` when the strides fit neither
/// — then the caller copies.
///
///     blasOperand(rows: 2, cols: 3, rowStride: 3, colStride: 1)  // (false, 3): as stored
///     blasOperand(rows: 3, cols: 2, rowStride: 1, colStride: 3)  // (true, 3): a transposed view
///     blasOperand(rows: 2, cols: 3, rowStride: 6, colStride: 2)  // nil: every other column
public func blasOperand(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (transposed: Bool, ld: Int)? {
    // BEGIN EXERCISE 5.4 — strides to a BLAS transpose flag and leading dimension (Lessons/05-matmul.md)
    // An axis of size 1 is never stepped along, so its stride does not matter.
    // Row-major: neighbours in a row are adjacent; rows are at least a row apart.
    if (cols == 1 || colStride == 1) && (rows == 1 || rowStride >= Swift.max(cols, 1)) {
        return (false, rows == 1 ? Swift.max(cols, 1) : rowStride)
    }
    // The transpose of a row-major matrix: neighbours in a column are adjacent.
    if (rows == 1 || rowStride == 1) && (cols == 1 || colStride >= Swift.max(rows, 1)) {
        return (true, cols == 1 ? Swift.max(rows, 1) : colStride)
    }
    return nil
    // END EXERCISE 5.4
}

/// Products at least this large (in multiply-adds) are split across cores.
let blasSplitThreshold = environmentThreshold ?? 1 << 23

/// C (contiguous m×n) = A (m×k view) × B (k×n view), through `cblas_sgemm`.
///
/// OpenBLAS always runs on one thread here. A large product is split by us
/// instead — into blocks of C's columns (or rows), one single-threaded
/// `sgemm` per core. OpenBLAS's own threads would do the split as well, but
/// between calls they spin (yielding) waiting for the next one, and steal the
/// cores that the rest of a training step (im2col, pooling, normalization)
/// runs on at that moment: with them, a CNN step spent a sixth of its time in
/// `sched_yield`.
func gemm(_ a: UnsafePointer<Float>, _ aRowStride: Int, _ aColStride: Int,
          _ b: UnsafePointer<Float>, _ bRowStride: Int, _ bColStride: Int,
          _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, accumulate: Bool = false) {
    guard let opA = blasOperand(rows: m, cols: k, rowStride: aRowStride, colStride: aColStride),
          let opB = blasOperand(rows: k, cols: n, rowStride: bRowStride, colStride: bColStride) else {
        fatalError("gemm: operands must be BLAS-compatible views")
    }
    if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    // One block of C: rows i0..<i0+rows, columns j0..<j0+cols. A block of a
    // view is the same view moved along, with the same leading dimension.
    func block(rows i0: Int, _ rows: Int, columns j0: Int, _ cols: Int) {
        cblas_sgemm(CblasRowMajor,
                    opA.transposed ? CblasTrans : CblasNoTrans,
                    opB.transposed ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(cols), Int32(k), 1,
                    a + i0 * aRowStride, Int32(opA.ld), b + j0 * bColStride, Int32(opB.ld),
                    accumulate ? 1 : 0, c + i0 * n + j0, Int32(Swift.max(n, 1)))
    }
    let workers = Swift.min(activeProcessorCount, 8)
    guard workers > 1, m * n * k >= blasSplitThreshold else {
        block(rows: 0, m, columns: 0, n)
        return
    }
    // Split the longer side of C, in multiples of 16 (whole register tiles).
    let splitColumns = n >= m
    let side = splitColumns ? n : m
    let size = ((side + workers - 1) / workers + 15) / 16 * 16
    let blocks = (side + size - 1) / size
    parallelChunks(blocks, minimumWork: parallelThreshold) { chunk in
        for w in chunk {
            let start = w * size, length = Swift.min(side, start + size) - start
            if splitColumns { block(rows: 0, m, columns: start, length) } else { block(rows: start, length, columns: 0, n) }
        }
    }
}

/// Where each matrix of a batched operand starts in storage, for every entry
/// of the broadcast batch shape `batch` in row-major order. `shape`, `strides`
/// and `offset` describe the operand's own batch axes (all but its last two).
/// A batch axis the operand lacks or has with size 1 is broadcast: every
/// entry along it reads the same matrix.
///
///     // A [2, 1, …] operand (batch strides [12, 12]) in a [2, 3] batch:
///     batchOffsets(shape: [2, 1], strides: [12, 12], offset: 0, batch: [2, 3])
///         == [0, 0, 0, 12, 12, 12]
public func batchOffsets(shape: [Int], strides: [Int], offset: Int, batch: [Int]) -> [Int] {
    // BEGIN EXERCISE 5.5 — one matrix per batch entry, batch axes broadcast (Lessons/05-matmul.md)
    let expanded = broadcastStrides(shape: shape, strides: strides, to: batch)  // stride 0 on broadcast axes
    var offsets: [Int] = []
    offsets.reserveCapacity(elementCount(batch))
    var index = [Int](repeating: 0, count: batch.count)
    for _ in 0..<elementCount(batch) {
        offsets.append(storageOffset(of: index, strides: expanded, offset: offset))
        incrementIndex(&index, shape: batch)
    }
    return offsets
    // END EXERCISE 5.5
}

extension Tensor {
    /// The matrix product. Like `torch.matmul`:
    /// - vector · vector → scalar (dot product);
    /// - matrix × vector, vector × matrix → vector;
    /// - matrix × matrix → matrix;
    /// - batched (rank ≥ 3) → a product per batch entry, batch axes broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        require(rank >= 1 && other.rank >= 1, "matmul: \(shape) × \(other.shape): scalars cannot be multiplied as matrices")
        // Vectors become 1×k or k×1 matrices; the extra axis is removed afterwards.
        if rank == 1 && other.rank == 1 {
            return unsqueezed(axis: 0).matmul(other.unsqueezed(axis: 1)).reshaped([])
        }
        if rank == 1 { return unsqueezed(axis: 0).matmul(other).squeezed(axis: -2) }
        if other.rank == 1 { return matmul(other.unsqueezed(axis: 1)).squeezed(axis: -1) }

        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        require(k == k2, "matmul: \(shape) × \(other.shape): inner dimensions \(k) and \(k2) differ")
        let batch = rank == 2 && other.rank == 2
            ? [] : broadcastShapes(Array(shape.dropLast(2)), Array(other.shape.dropLast(2)), op: "matmul")
        let a = Tensor.blasReadable(self), b = Tensor.blasReadable(other)
        let out = Tensor(storage: Storage(uninitializedCount: elementCount(batch) * m * n), shape: batch + [m, n])
        let (ars, acs) = (a.strides[a.rank - 2], a.strides[a.rank - 1])
        let (brs, bcs) = (b.strides[b.rank - 2], b.strides[b.rank - 1])
        withExtendedLifetime((a, b)) {  // gemm reads through pointers into a's and b's storage
            let (pa, pb, pc) = (a.storage.base, b.storage.base, out.storage.base)
            if batch.isEmpty {
                // Two matrices: one call.
                gemm(pa + a.offset, ars, acs, pb + b.offset, brs, bcs, pc, m: m, n: n, k: k)
                return
            }
            let offsetsA = batchOffsets(shape: Array(a.shape.dropLast(2)), strides: Array(a.strides.dropLast(2)),
                                        offset: a.offset, batch: batch)
            let offsetsB = batchOffsets(shape: Array(b.shape.dropLast(2)), strides: Array(b.strides.dropLast(2)),
                                        offset: b.offset, batch: batch)
            for t in 0..<offsetsA.count {
                gemm(pa + offsetsA[t], ars, acs, pb + offsetsB[t], brs, bcs, pc + t * m * n, m: m, n: n, k: k)
            }
        }
        return Tensor.record(out, op: "matmul", inputs: [self, other]) { [a = self, b = other] g in
            matmulBackward(g, a, b)
        }
    }

    /// `x` itself when BLAS can read its last two axes as they are, otherwise
    /// a contiguous copy (without history: only the numbers are read).
    private static func blasReadable(_ x: Tensor) -> Tensor {
        let (r, c) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        let fits = blasOperand(rows: r, cols: c, rowStride: x.strides[x.rank - 2], colStride: x.strides[x.rank - 1]) != nil
        return fits ? x : x.detach().contiguous()
    }
}

/// The backward rule of C = A × B (A, B of rank ≥ 2, batch axes
/// broadcast): ∂L/∂A = G · Bᵀ and ∂L/∂B = Aᵀ · G, where G = ∂L/∂C, each
/// summed back to its input's shape over the batch axes broadcasting
/// stretched. `nil` for an input that does not require grad.
func matmulBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [Tensor?] {
    // BEGIN EXERCISE 6.10 — matmul's backward rule: G·Bᵀ and Aᵀ·G (Lessons/06-tensor-autograd.md)
    return [a.requiresGrad ? g.matmul(b.transposed()).sumToShape(a.shape) : nil,
            b.requiresGrad ? a.transposed().matmul(g).sumToShape(b.shape) : nil]
    // END EXERCISE 6.10
}

/// Advances a multi-index by one in row-major order (the last axis fastest).
func incrementIndex(_ index: inout [Int], shape: [Int]) {
    var axis = shape.count - 1
    while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { return }
        index[axis] = 0
        axis -= 1
    }
}
