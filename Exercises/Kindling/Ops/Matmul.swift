import CBLAS

// Matrix multiplication (lesson 5). The readable definition is
//
//     C[i, j] = Σₖ A[i, k] · B[k, j]
//
// (see `naiveMatmul`); the fast path hands the work to OpenBLAS's `sgemm`,
// which is tiled for caches and vector units. BLAS reads a matrix through a
// *leading dimension* — the stride between rows — so a transposed view is
// passed as "transposed" with its existing strides, never copied.

/// How to hand one matrix view to BLAS: read it as stored or as transposed,
/// and the leading dimension. `nil` when the strides fit neither (then copy).
func blasOperand(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (transposed: Bool, ld: Int)? {
    // An axis of size 1 is never stepped along, so its stride is free.
    let rs = rows == 1 ? Swift.max(cols, 1) : rowStride
    let cs = cols == 1 ? 1 : colStride
    if cs == 1 && rs >= Swift.max(cols, 1) { return (false, rs) }
    let rs2 = rows == 1 ? 1 : rowStride
    let cs2 = cols == 1 ? Swift.max(rows, 1) : colStride
    if rs2 == 1 && cs2 >= Swift.max(rows, 1) { return (true, cs2) }
    return nil
}

/// Products smaller than this many multiply-adds run on one thread. Waking
/// OpenBLAS's threads costs more than it saves on small matrices, and its idle
/// threads spin (yielding) waiting for work, stealing the core that the rest
/// of a training step (im2col, pooling, elementwise ops) runs on.
let blasThreadingThreshold = 1 << 26

/// C (contiguous m×n) = A (m×k view) × B (k×n view), through `cblas_sgemm`.
func gemm(_ a: UnsafePointer<Float>, _ aRowStride: Int, _ aColStride: Int,
          _ b: UnsafePointer<Float>, _ bRowStride: Int, _ bColStride: Int,
          _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, accumulate: Bool = false) {
    guard let opA = blasOperand(rows: m, cols: k, rowStride: aRowStride, colStride: aColStride),
          let opB = blasOperand(rows: k, cols: n, rowStride: bRowStride, colStride: bColStride) else {
        preconditionFailure("gemm: operands must be BLAS-compatible views")
    }
    let threads: Int32 = m * n * k < blasThreadingThreshold ? 1 : Int32(activeProcessorCount)
    if openblas_get_num_threads() != threads { openblas_set_num_threads(threads) }
    cblas_sgemm(CblasRowMajor,
                opA.transposed ? CblasTrans : CblasNoTrans,
                opB.transposed ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1,
                a, Int32(opA.ld), b, Int32(opB.ld),
                accumulate ? 1 : 0, c, Int32(Swift.max(n, 1)))
}

/// The textbook triple loop: C = A × B for 2-D tensors. Slow (no cache
/// blocking, no vector units) but obviously right — lesson 5's starting point
/// and the tests' reference.
public func naiveMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                 "naiveMatmul: \(a.shape) × \(b.shape): inner dimensions differ")
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var total: Float = 0
            for p in 0..<k { total += a[i, p] * b[p, j] }
            c[i * n + j] = total
        }
    }
    return Tensor(c, shape: [m, n])
}

extension Tensor {
    /// The matrix product. Like `torch.matmul`:
    /// - vector · vector → scalar (dot product);
    /// - matrix × vector, vector × matrix → vector;
    /// - matrix × matrix → matrix;
    /// - batched (rank ≥ 3) → a product per batch entry, batch axes broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 1 && other.rank >= 1, "matmul: \(shape) × \(other.shape): scalars cannot be multiplied as matrices")
        // Vectors become 1×k or k×1 matrices; the extra axis is removed afterwards.
        if rank == 1 && other.rank == 1 {
            return unsqueezed(axis: 0).matmul(other.unsqueezed(axis: 1)).reshaped([])
        }
        if rank == 1 { return unsqueezed(axis: 0).matmul(other).squeezed(axis: -2) }
        if other.rank == 1 { return matmul(other.unsqueezed(axis: 1)).squeezed(axis: -1) }

        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        precondition(k == k2, "matmul: \(shape) × \(other.shape): inner dimensions \(k) and \(k2) differ")
        let batch = broadcastShapes(Array(shape.dropLast(2)), Array(other.shape.dropLast(2)), op: "matmul")
        let a = batchedOperand(self, batch: batch)
        let b = batchedOperand(other, batch: batch)
        let out = Tensor(storage: Storage(uninitializedCount: elementCount(batch) * m * n), shape: batch + [m, n])
        let aBatch = Array(a.strides.dropLast(2)), bBatch = Array(b.strides.dropLast(2))
        var batchIndex = [Int](repeating: 0, count: batch.count)
        for t in 0..<elementCount(batch) {
            let pa = a.storage.base + storageOffset(of: batchIndex, strides: aBatch, offset: a.offset)
            let pb = b.storage.base + storageOffset(of: batchIndex, strides: bBatch, offset: b.offset)
            gemm(pa, a.strides[a.rank - 2], a.strides[a.rank - 1],
                 pb, b.strides[b.rank - 2], b.strides[b.rank - 1],
                 out.storage.base + t * m * n, m: m, n: n, k: k)
            incrementIndex(&batchIndex, shape: batch)
        }
        withExtendedLifetime((a, b)) {}  // gemm read through pointers into a's and b's storage
        let (sa, sb) = (shape, other.shape)
        return Tensor.record(out, op: "matmul", inputs: [self, other]) { [a = self, b = other] g in
            [a.requiresGrad ? g.matmul(b.transposed()).sumToShape(sa) : nil,
             b.requiresGrad ? a.transposed().matmul(g).sumToShape(sb) : nil]
        }
    }

    /// `self` expanded to `batch + [rows, cols]`, copied only if its last two
    /// axes cannot be read by BLAS as they are.
    private func batchedOperand(_ x: Tensor, batch: [Int]) -> Tensor {
        let r = x.shape[x.rank - 2], c = x.shape[x.rank - 1]
        var t = x.detach()
        if blasOperand(rows: r, cols: c, rowStride: t.strides[t.rank - 2], colStride: t.strides[t.rank - 1]) == nil {
            t = t.contiguous()
        }
        return t.expanded(to: batch + [r, c])
    }
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
