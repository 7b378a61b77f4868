import Dispatch
#if canImport(Glibc)
import Glibc
#endif

// The loops underneath every elementwise op.
//
// Two paths, side by side:
// - the READABLE, general path walks any strided layout element by element,
//   carrying an offset per operand (`forEachOffset`, `forEachOffsetPair`,
//   `zipBroadcasting`: lesson 3 builds them);
// - the FAST path handles the common case — every operand contiguous — with
//   one flat loop over raw pointers that the compiler vectorizes, split across
//   cores when the tensor is large.

/// Tensors at least this large split elementwise loops across cores.
/// `KINDLING_PARALLEL_THRESHOLD=1` in the environment splits every loop
/// that can be split (and every matrix product, see `blasSplitThreshold`),
/// so that a test suite of small tensors exercises the parallel paths —
/// under ThreadSanitizer, say (`make sanitize`).
let parallelThreshold = environmentThreshold ?? 1 << 18

/// `KINDLING_PARALLEL_THRESHOLD` when set to a positive integer.
let environmentThreshold: Int? = {
    guard let text = getenv("KINDLING_PARALLEL_THRESHOLD"), let value = Int(String(cString: text)), value > 0 else {
        return nil
    }
    return value
}()

/// Runs `body` over `0..<count` in contiguous chunks, in parallel when
/// the work (`minimumWork` elements, or `count`) is large. (`body` is called through a pointer, once per chunk:
/// write the element loop itself inside `body`, with no closure calls in it,
/// so the compiler can vectorize it.)
func parallelChunks(_ count: Int, minimumWork: Int? = nil, _ body: (Range<Int>) -> Void) {
    let size = minimumWork ?? count
    let workers = size >= parallelThreshold ? min(activeProcessorCount, 8, count) : 1
    if workers <= 1 {
        body(0..<count)
        return
    }
    let chunk = (count + workers - 1) / workers
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body  // each worker touches its own range only
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let start = w * chunk
            let end = min(count, start + chunk)
            if start < end { work(start..<end) }
        }
    }
}

/// The number of cores this process may use.
let activeProcessorCount: Int = {
    #if canImport(Glibc)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
    return 1
    #endif
}()

/// Calls `body(i, p)` for every element of a strided layout in row-major
/// order: `i` counts elements 0, 1, 2, …; `p` is the element's storage offset.
/// The innermost axis is a tight loop; outer axes advance like an odometer
/// (lesson 3).
///
///     forEachOffset(shape: [2, 2], strides: [1, 2], offset: 0) { i, p in … }
///     // (i, p): (0, 0) (1, 2) (2, 1) (3, 3) — a transposed 2×2 matrix
@inline(__always)
public func forEachOffset(shape: [Int], strides: [Int], offset: Int, _ body: (Int, Int) -> Void) {
    let rank = shape.count
    if rank == 0 { body(0, offset); return }
    if shape.contains(0) { return }
    let inner = shape[rank - 1], innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var base = offset
    var i = 0
    while true {
        var p = base
        for _ in 0..<inner {
            body(i, p)
            i += 1
            p += innerStride
        }
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            base += strides[axis]
            if index[axis] < shape[axis] { break }
            base -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// Like `forEachOffset`, for two operands of the same shape but different
/// strides: `body(i, pa, pb)` for every element in row-major order, where
/// `pa` and `pb` are the element's storage offsets in each operand. The
/// readable, general path of every binary op (lesson 3).
@inline(__always)
public func forEachOffsetPair(shape: [Int], stridesA: [Int], offsetA: Int, stridesB: [Int], offsetB: Int,
                              _ body: (Int, Int, Int) -> Void) {
    // BEGIN EXERCISE 3.3 — one odometer walking two layouts (Lessons/03-broadcasting.md)
    let rank = shape.count
    if rank == 0 { body(0, offsetA, offsetB); return }
    if shape.contains(0) { return }
    let inner = shape[rank - 1], sa = stridesA[rank - 1], sb = stridesB[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var baseA = offsetA, baseB = offsetB
    var i = 0
    while true {
        var pa = baseA, pb = baseB
        for _ in 0..<inner {
            body(i, pa, pb)
            i += 1
            pa += sa
            pb += sb
        }
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            baseA += stridesA[axis]
            baseB += stridesB[axis]
            if index[axis] < shape[axis] { break }
            baseA -= stridesA[axis] * shape[axis]
            baseB -= stridesB[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
    // END EXERCISE 3.3
}

/// Copies a (possibly strided) tensor's elements, row-major, into `destination`.
func copyElements(from source: Tensor, into destination: UnsafeMutablePointer<Float>) {
    let src = source.storage.base
    if source.isContiguous {
        destination.update(from: src + source.offset, count: source.count)  // fast path
        return
    }
    forEachOffset(shape: source.shape, strides: source.strides, offset: source.offset) { i, p in
        destination[i] = src[p]
    }
}

/// `f` applied to every element: a new contiguous tensor (no autograd).
@inline(__always)
func mapElements(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    let out = Storage(uninitializedCount: x.count)
    let o = out.base, src = x.storage.base
    if x.isContiguous {
        let s = src + x.offset  // fast path: one flat loop, split across cores when large
        parallelChunks(x.count) { range in
            for i in range { o[i] = f(s[i]) }
        }
    } else {
        forEachOffset(shape: x.shape, strides: x.strides, offset: x.offset) { i, p in o[i] = f(src[p]) }
    }
    return Tensor(storage: out, shape: x.shape)
}

/// `f(a, b)` for every pair of elements after broadcasting `a` and `b` to a
/// common shape: a new contiguous tensor (no autograd).
@inline(__always)
func zipElements(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
    let shape = a.shape == b.shape ? a.shape : broadcastShapes(a.shape, b.shape, op: op)
    let out = Storage(uninitializedCount: elementCount(shape))
    let o = out.base, pa = a.storage.base, pb = b.storage.base
    if a.shape == b.shape && a.isContiguous && b.isContiguous {
        let sa = pa + a.offset, sb = pb + b.offset  // fast path: one flat loop, split across cores when large
        parallelChunks(out.count) { range in
            for i in range { o[i] = f(sa[i], sb[i]) }
        }
    } else if b.count == 1 && a.isContiguous {
        let sa = pa + a.offset, v = pb[b.offset]  // fast path: tensor ⊙ one number
        parallelChunks(out.count) { range in
            for i in range { o[i] = f(sa[i], v) }
        }
    } else if a.shape == shape && a.isContiguous && b.isContiguous && isTrailingBlock(b.shape, of: shape) {
        let sa = pa + a.offset, sb = pb + b.offset, row = b.count  // fast path: matrix ⊙ row (a bias)
        for r in 0..<(out.count / Swift.max(row, 1)) {
            let oa = sa + r * row, oo = o + r * row
            for i in 0..<row { oo[i] = f(oa[i], sb[i]) }
        }
    } else {
        zipBroadcasting(a, b, shape: shape, into: o, f)  // the general path
    }
    return Tensor(storage: out, shape: shape)
}

/// The READABLE, general path of `zipElements`: writes `f(a, b)` for every
/// element of the broadcast `shape`, row-major, into `out`. Each operand is
/// read through its broadcast strides (stride 0 on the axes it is repeated
/// along), so no operand is ever copied or expanded in memory.
@inline(__always)
func zipBroadcasting(_ a: Tensor, _ b: Tensor, shape: [Int], into out: UnsafeMutablePointer<Float>,
                     _ f: (Float, Float) -> Float) {
    // BEGIN EXERCISE 3.4 — the general binary kernel (Lessons/03-broadcasting.md)
    let sa = broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
    let sb = broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
    let pa = a.storage.base, pb = b.storage.base
    forEachOffsetPair(shape: shape, stridesA: sa, offsetA: a.offset, stridesB: sb, offsetB: b.offset) { i, p, q in
        out[i] = f(pa[p], pb[q])
    }
    // END EXERCISE 3.4
}

/// The four arithmetic operations, for the parallel fast path.
enum Arithmetic { case add, subtract, multiply, divide }

/// FAST path for `a ∘ b` when both are contiguous with the same shape: one
/// vectorized loop per operation, split across cores for large tensors.
/// Returns `nil` when the operands do not qualify (the caller then takes the
/// general path).
func arithmeticFastPath(_ op: Arithmetic, _ a: Tensor, _ b: Tensor) -> Tensor? {
    guard a.shape == b.shape, a.isContiguous, b.isContiguous else { return nil }
    let out = Storage(uninitializedCount: a.count)
    let sa = a.storage.base + a.offset, sb = b.storage.base + b.offset, o = out.base
    parallelChunks(a.count) { range in
        switch op {
        case .add: for i in range { o[i] = sa[i] + sb[i] }
        case .subtract: for i in range { o[i] = sa[i] - sb[i] }
        case .multiply: for i in range { o[i] = sa[i] * sb[i] }
        case .divide: for i in range { o[i] = sa[i] / sb[i] }
        }
    }
    return Tensor(storage: out, shape: a.shape)
}

/// Whether `small` (ignoring leading 1s) is exactly the last axes of `big`, so
/// that a contiguous `small` broadcast to `big` repeats one contiguous block —
/// the case of adding a bias row to a batch. It picks `zipElements`'s
/// matrix ⊙ row fast path.
///
///     isTrailingBlock([1, 3], of: [4, 3]) == true     // one row of 3, repeated 4 times
///     isTrailingBlock([4, 1], of: [4, 3]) == false    // a column: each value repeats 3 times
public func isTrailingBlock(_ small: [Int], of big: [Int]) -> Bool {
    // BEGIN EXERCISE 3.6 — when broadcasting repeats one contiguous block (Lessons/03-broadcasting.md)
    let trimmed = Array(small.drop(while: { $0 == 1 }))
    return trimmed.count <= big.count && Array(big.suffix(trimmed.count)) == trimmed
    // END EXERCISE 3.6
}

extension Tensor {
    /// `self += other` element by element, in place (no autograd). `other`
    /// must broadcast to `self`'s shape. Used to accumulate gradients.
    public func addInPlace(_ other: Tensor, scale: Float = 1) {
        require(broadcastShapes(shape, other.shape, op: "addInPlace") == shape,
                "addInPlace: \(other.shape) does not broadcast to \(shape)")
        let d = storage.base, s = other.storage.base
        if isContiguous && other.isContiguous && other.shape == shape {
            let dst = d + offset, src = s + other.offset  // fast path
            parallelChunks(count) { range in
                for i in range { dst[i] += scale * src[i] }
            }
            return
        }
        let so = broadcastStrides(shape: other.shape, strides: other.strides, to: shape)
        forEachOffsetPair(shape: shape, stridesA: strides, offsetA: offset, stridesB: so, offsetB: other.offset) { _, p, q in
            d[p] += scale * s[q]
        }
    }

    /// Overwrites every element with `value`, in place (no autograd).
    public func fill(_ value: Float) {
        let d = storage.base
        forEachOffset(shape: shape, strides: strides, offset: offset) { _, p in d[p] = value }
    }

    /// Overwrites this tensor's elements with `other`'s (same shape), in place.
    public func assign(_ other: Tensor) {
        require(other.shape == shape, "assign: shape \(other.shape) does not match \(shape)")
        let d = storage.base, s = other.storage.base
        forEachOffsetPair(shape: shape, stridesA: strides, offsetA: offset,
                          stridesB: other.strides, offsetB: other.offset) { _, p, q in d[p] = s[q] }
    }

    /// Direct read/write access to a contiguous tensor's elements (no autograd).
    /// The fast path for optimizers and kernels.
    public func withUnsafeMutableElements<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        require(isContiguous, "withUnsafeMutableElements: tensor of shape \(shape) is not contiguous")
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }
}
