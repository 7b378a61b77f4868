// Reductions: collapse one or more axes into one number each (lesson 4).
//
// The kernel views a contiguous tensor as [outer, n, inner] around the reduced
// axis: out[o, i] = combine over r of x[o, r, i]. Several axes are reduced one
// after another.

/// Sums one axis of a tensor, keeping it with size 1 (no autograd).
///
/// A contiguous tensor is viewed as [outer, n, inner] around the axis:
/// out[o, i] = Σ over r of x[o, r, i]. With inner == 1 each output is the sum
/// of one contiguous run (`sumContiguous`); otherwise whole rows are added
/// into a Double accumulator, which vectorizes over i and keeps long sums accurate.
func sumAxis(_ x: Tensor, axis: Int) -> Tensor {
    let x = x.contiguous()
    let n = x.shape[axis]
    let outer = elementCount(Array(x.shape[..<axis]))
    let inner = elementCount(Array(x.shape[(axis + 1)...]))
    var outShape = x.shape
    outShape[axis] = 1
    let out = Storage(uninitializedCount: outer * inner)
    let src = x.storage.base + x.offset, dst = out.base
    if inner == 1 {
        for o in 0..<outer { dst[o] = sumContiguous(src + o * n, n) }
    } else {
        var row = [Double](repeating: 0, count: inner)
        for o in 0..<outer {
            for i in 0..<inner { row[i] = 0 }
            for r in 0..<n {
                let s = src + (o * n + r) * inner
                for i in 0..<inner { row[i] += Double(s[i]) }
            }
            for i in 0..<inner { dst[o * inner + i] = Float(row[i]) }
        }
    }
    withExtendedLifetime(x) {}  // `src` points into x's storage
    return Tensor(storage: out, shape: outShape)
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

    /// The shape after reducing `axes` (kept as size 1 when `keepdim`).
    func reducedShape(_ axes: [Int], keepdim: Bool) -> [Int] {
        keepdim ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
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
            result = Tensor([total], shape: reducedShape(ax, keepdim: keepdim))
        } else {
            var r = self
            for a in ax { r = sumAxis(r, axis: a) }
            result = r.reshapedNoGrad(reducedShape(ax, keepdim: keepdim))
        }
        let original = shape
        let kept = reducedShape(ax, keepdim: true)
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
        precondition(count > 0, "\(op): cannot reduce an empty tensor of shape \(shape)")
        let ax = reductionAxes(axes, op: op)
        // Reduce one axis at a time; each step records its own backward.
        var r = self
        for a in ax { r = r.extremeAlong(axis: a, op: op, largest: largest) }
        return r.reshaped(reducedShape(ax, keepdim: keepdim))
    }

    /// max/min along one axis (kept as size 1), recording where each came from.
    private func extremeAlong(axis: Int, op: String, largest: Bool) -> Tensor {
        let index = argExtreme(axis: axis, largest: largest)
        let x = contiguous()
        let n = shape[axis]
        let inner = elementCount(Array(shape[(axis + 1)...]))
        let out = Tensor.zeros(index.shape)
        let src = x.storage.base + x.offset, ix = index.storage.base, dst = out.storage.base
        for k in 0..<out.count {
            let o = k / inner, i = k % inner
            dst[k] = src[(o * n + Int(ix[k])) * inner + i]
        }
        withExtendedLifetime(x) {}
        let original = shape
        return Tensor.record(out, op: op, inputs: [self]) { [index] g in
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

    /// For each position of the other axes, the index along `axis` of the
    /// largest (or smallest) element; the first one wins ties. Shape keeps
    /// `axis` as size 1. Indices are stored as `Float`s.
    func argExtreme(axis: Int, largest: Bool) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: largest ? "argmax" : "argmin")
        let x = contiguous()
        let n = shape[a]
        precondition(n > 0, "argmax: axis \(a) of shape \(shape) is empty")
        let outer = elementCount(Array(shape[..<a])), inner = elementCount(Array(shape[(a + 1)...]))
        var outShape = shape
        outShape[a] = 1
        let out = Tensor.zeros(outShape)
        let src = x.storage.base + x.offset, dst = out.storage.base
        for o in 0..<outer {
            for i in 0..<inner {
                var best = src[o * n * inner + i], bestIndex = 0
                for r in 1..<n {
                    let v = src[(o * n + r) * inner + i]
                    if largest ? (v > best || (v.isNaN && !best.isNaN)) : (v < best || (v.isNaN && !best.isNaN)) {
                        best = v
                        bestIndex = r
                    }
                }
                dst[o * inner + i] = Float(bestIndex)
            }
        }
        withExtendedLifetime(x) {}
        return out
    }

    /// The index of the largest element along `axis` (of the flattened tensor
    /// when `axis` is nil), as a tensor of whole numbers. Not differentiable.
    public func argmax(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        guard let axis else { return reshapedNoGrad([count]).argmax(axis: 0) }
        let a = normalizedAxis(axis, rank: rank, op: "argmax")
        let r = argExtreme(axis: a, largest: true)
        return keepdim ? r : r.reshapedNoGrad(reducedShape([a], keepdim: false))
    }

    /// The index of the smallest element along `axis`. Not differentiable.
    public func argmin(axis: Int? = nil, keepdim: Bool = false) -> Tensor {
        guard let axis else { return reshapedNoGrad([count]).argmin(axis: 0) }
        let a = normalizedAxis(axis, rank: rank, op: "argmin")
        let r = argExtreme(axis: a, largest: false)
        return keepdim ? r : r.reshapedNoGrad(reducedShape([a], keepdim: false))
    }

    /// A reshaped view (or copy) that is never recorded — for kernels' own use.
    func reshapedNoGrad(_ newShape: [Int]) -> Tensor {
        let c = contiguous().detach()
        return Tensor(storage: c.storage, shape: newShape, strides: contiguousStrides(newShape), offset: c.offset)
    }
}
