// Reductions: collapse one or more axes into one number each (lesson 4).
//
// The kernels view a contiguous tensor as a block [outer, n, inner] around the
// reduced axis: out[o, i] = combine over r of x[o, r, i]. Several axes are
// reduced one after another.

/// The shape after reducing `axes` (distinct, each in `0..<shape.count`): a
/// reduced axis stays with size 1 when `keepdim` is true and disappears
/// otherwise. Reducing every axis without `keepdim` leaves a scalar, `[]`.
///
///     reducedShape([2, 3, 4], axes: [1], keepdim: true) == [2, 1, 4]
///     reducedShape([2, 3, 4], axes: [1], keepdim: false) == [2, 4]
public func reducedShape(_ shape: [Int], axes: [Int], keepdim: Bool) -> [Int] {
    // BEGIN EXERCISE 4.1 — the shape after a reduction, with or without keepdim (Lessons/04-reductions.md)
    var result: [Int] = []
    for (axis, size) in shape.enumerated() {
        if !axes.contains(axis) {
            result.append(size)
        } else if keepdim {
            result.append(1)
        }
    }
    return result
    // END EXERCISE 4.1
}

/// A contiguous tensor of `shape` seen as a 3-D block `[outer, n, inner]`
/// around `axis`: `outer` is the product of the sizes before the axis, `n`
/// its own size, `inner` the product of the sizes after it. Element
/// `[o, r, i]` of the block lives at `(o·n + r)·inner + i`.
///
///     reductionLayout([2, 3, 4], axis: 1) == (outer: 2, n: 3, inner: 4)
public func reductionLayout(_ shape: [Int], axis: Int) -> (outer: Int, n: Int, inner: Int) {
    // BEGIN EXERCISE 4.2 — the [outer, n, inner] view around an axis (Lessons/04-reductions.md)
    var outer = 1, inner = 1
    for a in 0..<axis { outer *= shape[a] }
    for a in (axis + 1)..<shape.count { inner *= shape[a] }
    return (outer, shape[axis], inner)
    // END EXERCISE 4.2
}

/// Sums one axis of a tensor, keeping it with size 1 (no autograd).
///
/// With `inner == 1` each output is the sum of one contiguous run of `n`
/// numbers, summed by the SIMD kernel `sumContiguous` (the fast path);
/// otherwise `sumMiddleAxis` does the work.
func sumAxis(_ x: Tensor, axis: Int) -> Tensor {
    let x = x.contiguous()
    let (outer, n, inner) = reductionLayout(x.shape, axis: axis)
    var outShape = x.shape
    outShape[axis] = 1
    let out = Storage(uninitializedCount: outer * inner)
    let src = x.storage.base + x.offset, dst = out.base
    if inner == 1 {
        for o in 0..<outer { dst[o] = sumContiguous(src + o * n, n) }  // fast path
    } else {
        sumMiddleAxis(src, outer: outer, n: n, inner: inner, into: dst)
    }
    withExtendedLifetime(x) {}  // `src` points into x's storage
    return Tensor(storage: out, shape: outShape)
}

/// The sum kernel: for a contiguous block `x` viewed as `[outer, n, inner]`,
/// `out[o·inner + i] = Σ over r of x[(o·n + r)·inner + i]`.
///
/// The sums are accumulated in `Double` (a long `Float` running sum drifts
/// visibly), and a whole row of `inner` partial sums is updated at a time, so
/// memory is read in order and the inner loop vectorizes.
func sumMiddleAxis(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, into out: UnsafeMutablePointer<Float>) {
    // BEGIN EXERCISE 4.3 — sum over the middle axis of [outer, n, inner] (Lessons/04-reductions.md)
    var row = [Double](repeating: 0, count: inner)
    for o in 0..<outer {
        for i in 0..<inner { row[i] = 0 }
        for r in 0..<n {
            let s = x + (o * n + r) * inner
            for i in 0..<inner { row[i] += Double(s[i]) }
        }
        for i in 0..<inner { out[o * inner + i] = Float(row[i]) }
    }
    // END EXERCISE 4.3
}

/// The argmax kernel: for a contiguous block `x` viewed as `[outer, n, inner]`
/// (`n ≥ 1`), `out[o·inner + i]` is the index `r` of the largest (or, when
/// `largest` is false, the smallest) `x[(o·n + r)·inner + i]`, as a `Float`.
/// The first one wins ties; a NaN beats every number, and the first NaN wins
/// (as in PyTorch, so a NaN is never hidden by a reduction).
func extremeIndices(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, largest: Bool,
                    into out: UnsafeMutablePointer<Float>) {
    // BEGIN EXERCISE 4.4 — the first index of the largest element (Lessons/04-reductions.md)
    for o in 0..<outer {
        for i in 0..<inner {
            var best = x[o * n * inner + i], bestIndex = 0
            for r in 1..<n {
                let v = x[(o * n + r) * inner + i]
                let better = largest ? v > best : v < best
                if better || (v.isNaN && !best.isNaN) {
                    best = v
                    bestIndex = r
                }
            }
            out[o * inner + i] = Float(bestIndex)
        }
    }
    // END EXERCISE 4.4
}

/// The sum of `count` contiguous floats: eight SIMD lanes sum blocks of 1,024
/// elements (fast), and the block totals are added in Double (accurate —
/// a single Float running sum of a million numbers drifts visibly).
func sumContiguous(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var total: Double = 0
    var start = 0
    while start < count {
        let end = Swift.min(start + 1024, count)
        var acc = SIMD8<Float>(repeating: 0)
        var i = start
        while i + 8 <= end {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var block = acc.sum()
        while i < end { block += p[i]; i += 1 }
        total += Double(block)
        start = end
    }
    return Float(total)
}

extension Tensor {
    /// Normalized, sorted, de-duplicated axes (`nil` → every axis).
    func reductionAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return Array(Set(axes.map { normalizedAxis($0, rank: rank, op: op) })).sorted()
    }

    /// The sum of all elements (a scalar), or over `axis`.
    public func sum(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        sum(axes: axis.map { [$0] }, keepdim: keepdim)
    }

    /// The sum over several axes (`nil`: all of them).
    public func sum(axes: [Int]?, keepdim: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, op: "sum")
        let result: Tensor
        if ax.count == rank && isContiguous {
            // Fast path: everything, in one pass.
            let total = sumContiguous(storage.base + offset, count)
            result = Tensor([total], shape: reducedShape(shape, axes: ax, keepdim: keepdim))
        } else {
            var r = self
            for a in ax { r = sumAxis(r, axis: a) }
            result = r.reshapedNoGrad(reducedShape(shape, axes: ax, keepdim: keepdim))
        }
        let original = shape
        let kept = reducedShape(shape, axes: ax, keepdim: true)
        return Tensor.record(result, op: "sum", inputs: [self]) { g in
            // Every input element contributed once: the gradient is g spread back
            // over the summed axes — one number everywhere when everything was summed.
            g.count == 1 ? [Tensor.full(original, g.item())] : [g.reshaped(kept).expanded(to: original)]
        }
    }

    /// The mean of all elements, or over `axis`.
    public func mean(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        mean(axes: axis.map { [$0] }, keepdim: keepdim)
    }

    /// The mean over several axes (`nil`: all of them).
    public func mean(axes: [Int]?, keepdim: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepdim: keepdim) / Float(n)
    }

    /// The variance over `axes` (`nil`: all). `unbiased` divides by n − 1
    /// (Bessel's correction, PyTorch's default) instead of n.
    public func variance(axes: [Int]? = nil, keepdim: Bool = false, unbiased: Bool = true) -> Tensor {
        let ax = reductionAxes(axes, op: "variance")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(axes: ax, keepdim: true)
        return (centered * centered).sum(axes: ax, keepdim: keepdim) / Float(unbiased ? Swift.max(n - 1, 1) : n)
    }

    /// The largest element, or the largest along `axis`. The gradient flows to
    /// the (first) position of each maximum.
    public func max(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        extreme(axes: axis.map { [$0] }, keepdim: keepdim, op: "max", largest: true)
    }

    /// The largest element over several axes.
    public func max(axes: [Int]?, keepdim: Bool = false) -> Tensor {
        extreme(axes: axes, keepdim: keepdim, op: "max", largest: true)
    }

    /// The smallest element, or the smallest along `axis`.
    public func min(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        extreme(axes: axis.map { [$0] }, keepdim: keepdim, op: "min", largest: false)
    }

    /// The smallest element over several axes.
    public func min(axes: [Int]?, keepdim: Bool = false) -> Tensor {
        extreme(axes: axes, keepdim: keepdim, op: "min", largest: false)
    }

    private func extreme(axes: [Int]?, keepdim: Bool, op: String, largest: Bool) -> Tensor {
        require(count > 0, "\(op): cannot reduce an empty tensor of shape \(shape)")
        let ax = reductionAxes(axes, op: op)
        // Reduce one axis at a time; each step records its own backward.
        var r = self
        for a in ax { r = r.extremeAlong(axis: a, op: op, largest: largest) }
        return r.reshaped(reducedShape(shape, axes: ax, keepdim: keepdim))
    }

    /// max/min along one axis (kept as size 1), recording where each came from.
    private func extremeAlong(axis: Int, op: String, largest: Bool) -> Tensor {
        let index = argExtreme(axis: axis, largest: largest)
        let out = gathered(along: axis, at: index)
        let original = shape
        let (_, n, inner) = reductionLayout(shape, axis: axis)
        return Tensor.record(out, op: op, inputs: [self]) { [index] g in
            // Each output came from one input element: its gradient goes back there.
            let ix = index.storage.base
            let full = Tensor.zeros(original)
            let gc = g.contiguous()
            let d = full.storage.base, s = gc.storage.base + gc.offset
            for k in 0..<gc.count {
                let o = k / inner, i = k % inner
                d[(o * n + Int(ix[k])) * inner + i] += s[k]
            }
            withExtendedLifetime(gc) {}
            return [full]
        }
    }

    /// The elements picked by `index` (as made by `argExtreme`) along `axis`:
    /// `out[o, 0, i] = self[o, index[o, 0, i], i]`. No autograd.
    func gathered(along axis: Int, at index: Tensor) -> Tensor {
        let x = contiguous()
        let (_, n, inner) = reductionLayout(shape, axis: axis)
        let out = Storage(uninitializedCount: index.count)
        let src = x.storage.base + x.offset, ix = index.storage.base + index.offset, dst = out.base
        for k in 0..<index.count {
            let o = k / inner, i = k % inner
            dst[k] = src[(o * n + Int(ix[k])) * inner + i]
        }
        withExtendedLifetime(x) {}
        return Tensor(storage: out, shape: index.shape)
    }

    /// The largest element along `axis`, kept as size 1, as a plain constant
    /// that is never recorded for autograd: what stable softmax and
    /// logsumexp subtract before `exp` (lesson 4).
    func detachedMax(axis: Int) -> Tensor {
        gathered(along: axis, at: argExtreme(axis: axis, largest: true))
    }

    /// For each position of the other axes, the index along `axis` of the
    /// largest (or smallest) element; the first one wins ties. Shape keeps
    /// `axis` as size 1. Indices are stored as `Float`s.
    func argExtreme(axis: Int, largest: Bool) -> Tensor {
        let op = largest ? "argmax" : "argmin"
        let a = normalizedAxis(axis, rank: rank, op: op)
        require(rank > 0, "\(op): a scalar has no axis \(axis) to search along")
        require(shape[a] > 0, "\(op): axis \(axis) of shape \(shape) is empty")
        let x = contiguous()
        let (outer, n, inner) = reductionLayout(shape, axis: a)
        var outShape = shape
        outShape[a] = 1
        let out = Storage(uninitializedCount: outer * inner)
        extremeIndices(x.storage.base + x.offset, outer: outer, n: n, inner: inner, largest: largest, into: out.base)
        withExtendedLifetime(x) {}
        return Tensor(storage: out, shape: outShape)
    }

    /// The index of the largest element along `axis` (of the flattened tensor
    /// when `axis` is nil), as a tensor of whole numbers. Not differentiable.
    public func argmax(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        guard let axis else { return reshapedNoGrad([count]).argmax(axis: 0) }
        let a = normalizedAxis(axis, rank: rank, op: "argmax")
        let r = argExtreme(axis: a, largest: true)
        return keepdim ? r : r.reshapedNoGrad(reducedShape(shape, axes: [a], keepdim: false))
    }

    /// The index of the smallest element along `axis`. Not differentiable.
    public func argmin(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        guard let axis else { return reshapedNoGrad([count]).argmin(axis: 0) }
        let a = normalizedAxis(axis, rank: rank, op: "argmin")
        let r = argExtreme(axis: a, largest: false)
        return keepdim ? r : r.reshapedNoGrad(reducedShape(shape, axes: [a], keepdim: false))
    }

    /// A reshaped view (or copy) that is never recorded — for kernels' own use.
    func reshapedNoGrad(_ newShape: [Int]) -> Tensor {
        let c = contiguous().detach()
        return Tensor(storage: c.storage, shape: newShape, strides: contiguousStrides(newShape), offset: c.offset)
    }
}
