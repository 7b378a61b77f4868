// Shape operations. Most are *views*: a new shape/strides/offset over the same
// storage, made in O(rank) time without touching the numbers (lesson 2).
// Each records how to send the gradient back to the original layout.

extension Tensor {
    /// A view of the same elements under a different shape (one axis may be
    /// `-1`, inferred). Copies only when the layout makes a view impossible.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = inferredShape(newShape, count: count)
        if target == shape { return self }
        let source = isContiguous ? self : contiguous()
        let view = Tensor(storage: source.storage, shape: target, strides: contiguousStrides(target),
                          offset: source.offset)
        let original = shape
        return Tensor.record(view, op: "reshape", inputs: [source]) { g in [g.reshaped(original)] }
    }

    /// A view with axes `axis0` and `axis1` swapped (by default the last two:
    /// the matrix transpose). No data moves.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        if rank < 2 { return self }
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(axis0, rank: rank, op: "transposed"),
                     normalizedAxis(axis1, rank: rank, op: "transposed"))
        return permuted(order, op: "transpose")
    }

    /// A view whose axis `i` is this tensor's axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        permuted(axes, op: "permute")
    }

    /// `permuted`, recorded under the name `op`.
    private func permuted(_ axes: [Int], op: String) -> Tensor {
        let order = axes.map { normalizedAxis($0, rank: rank, op: "permuted") }
        require(order.count == rank && Set(order).count == rank,
                "permuted: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        let layout = permutedLayout(shape: shape, strides: strides, order: order)
        let view = Tensor(storage: storage, shape: layout.shape, strides: layout.strides, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in order.enumerated() { inverse[a] = i }
        return Tensor.record(view, op: op, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// The elements `start, start + step, …` (below `end`) along `axis`, as a view.
    /// Negative `start`/`end` count from the end.
    public func sliced(axis: Int = 0, from start: Int, to end: Int? = nil, step: Int = 1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "sliced")
        require(step > 0, "sliced: step must be positive, got \(step)")
        let n = shape[a]
        let lo = Swift.min(Swift.max(start < 0 ? start + n : start, 0), n)
        let hi = Swift.min(Swift.max((end ?? n) < 0 ? (end ?? n) + n : (end ?? n), lo), n)
        let layout = slicedLayout(shape: shape, strides: strides, offset: offset, axis: a, start: lo, end: hi, step: step)
        let view = Tensor(storage: storage, shape: layout.shape, strides: layout.strides, offset: layout.offset)
        let original = shape
        return Tensor.record(view, op: "slice", inputs: [self]) { g in
            let full = Tensor.zeros(original)
            full.sliced(axis: a, from: lo, to: hi, step: step).assign(g)
            return [full]
        }
    }

    /// The sub-tensor at position `index` of `axis`, with that axis removed.
    public func selected(axis: Int = 0, index: Int) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "selected")
        require(index >= -shape[a] && index < shape[a], "selected: index \(index) out of range for axis \(a) of shape \(shape)")
        let i = index < 0 ? index + shape[a] : index
        return sliced(axis: a, from: i, to: i + 1).squeezed(axis: a)
    }

    /// A view without size-1 axes (or without the given one, which must have size 1).
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = normalizedAxis(axis, rank: rank, op: "squeezed")
            require(shape[a] == 1, "squeezed: axis \(a) of shape \(shape) has size \(shape[a]), not 1")
            var s = shape, st = strides
            s.remove(at: a); st.remove(at: a)
            return viewRecordingReshape(shape: s, strides: st, op: "squeeze")
        }
        let keep = shape.indices.filter { shape[$0] != 1 }
        return viewRecordingReshape(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, op: "squeeze")
    }

    /// A view with a new size-1 axis inserted at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        require(a >= 0 && a <= rank, "unsqueezed: axis \(axis) out of range for rank \(rank)")
        var s = shape, st = strides
        s.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        return viewRecordingReshape(shape: s, strides: st, op: "unsqueeze")
    }

    /// A view that repeats size-1 axes (and adds leading axes) to reach
    /// `target`, by giving them stride 0. No data is copied.
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let view = Tensor(storage: storage, shape: target,
                          strides: broadcastStrides(shape: shape, strides: strides, to: target), offset: offset)
        let original = shape
        return Tensor.record(view, op: "expand", inputs: [self]) { g in [g.sumToShape(original)] }
    }

    /// This tensor if its elements are already row-major without gaps,
    /// otherwise a contiguous copy.
    public func contiguous() -> Tensor {
        isContiguous ? self : copy()
    }

    /// A view with the same elements and a new shape/strides, whose gradient
    /// is reshaped back (squeeze/unsqueeze).
    private func viewRecordingReshape(shape newShape: [Int], strides newStrides: [Int], op: String) -> Tensor {
        let view = Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset)
        let original = shape
        return Tensor.record(view, op: op, inputs: [self]) { g in [g.reshaped(original)] }
    }

    /// Joins tensors along an existing axis; all other sizes must agree.
    public static func concatenated(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "concatenated: needs at least one tensor")
        let first = tensors[0]
        let a = normalizedAxis(axis, rank: first.rank, op: "concatenated")
        for t in tensors {
            var s1 = t.shape, s0 = first.shape
            require(t.rank == first.rank, "concatenated: shapes \(first.shape) and \(t.shape) differ in rank")
            s1[a] = 0; s0[a] = 0
            require(s1 == s0, "concatenated: shapes \(first.shape) and \(t.shape) differ outside axis \(a)")
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor.zeros(outShape)
        var start = 0
        var bounds: [(Int, Int)] = []
        for t in tensors {
            let end = start + t.shape[a]
            out.sliced(axis: a, from: start, to: end).assign(t)
            bounds.append((start, end))
            start = end
        }
        return record(out, op: "cat", inputs: tensors) { g in
            bounds.map { g.sliced(axis: a, from: $0.0, to: $0.1) }
        }
    }

    /// Joins same-shaped tensors along a new axis.
    public static func stacked(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "stacked: needs at least one tensor")
        for t in tensors {
            require(t.shape == tensors[0].shape, "stacked: shapes \(tensors[0].shape) and \(t.shape) differ")
        }
        return concatenated(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// The rows (entries along axis 0) at `indices`, in that order — a
    /// mini-batch from a dataset, or embeddings looked up by id.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        require(rank >= 1, "gatherRows: needs a tensor of rank ≥ 1, got shape \(shape)")
        let n = shape[0]
        let source = contiguous()
        let rowSize = count / Swift.max(n, 1)
        var outShape = shape
        outShape[0] = indices.count
        let out = Storage(uninitializedCount: indices.count * rowSize)
        let src = source.storage.base + source.offset
        for (r, i) in indices.enumerated() {
            require(i >= 0 && i < n, "gatherRows: index \(i) out of range for \(n) rows")
            (out.base + r * rowSize).update(from: src + i * rowSize, count: rowSize)
        }
        withExtendedLifetime(source) {}  // `src` points into source's storage
        let original = shape
        return Tensor.record(Tensor(storage: out, shape: outShape), op: "gatherRows", inputs: [source]) { g in
            let full = Tensor.zeros(original)
            let gc = g.contiguous()
            let d = full.storage.base, s = gc.storage.base + gc.offset
            for (r, i) in indices.enumerated() {
                for k in 0..<rowSize { d[i * rowSize + k] += s[r * rowSize + k] }
            }
            withExtendedLifetime(gc) {}
            return [full]
        }
    }
}

/// Resolves a `-1` in a requested shape and checks the element count.
func inferredShape(_ shape: [Int], count: Int) -> [Int] {
    var result = shape
    let unknown = shape.indices.filter { shape[$0] == -1 }
    require(unknown.count <= 1, "reshaped: only one axis may be -1, got \(shape)")
    if let u = unknown.first {
        let known = elementCount(shape.enumerated().filter { $0.offset != u }.map(\.element))
        require(known > 0 && count % known == 0, "reshaped: cannot reshape \(count) elements into \(shape)")
        result[u] = count / known
    }
    require(elementCount(result) == count,
            "reshaped: cannot reshape \(count) elements into \(shape) (\(elementCount(result)) elements)")
    return result
}
