// Shape arithmetic: the small functions every strided tensor library is
// built on. Each is one idea; lesson 2 (strides, offsets) and lesson 3
// (broadcasting) ask you to write them.

/// The number of elements in a tensor of the given shape (1 for a scalar `[]`).
public func elementCount(_ shape: [Int]) -> Int {
    // BEGIN EXERCISE 2.1 — the number of elements of a shape (Lessons/02-tensors.md)
    var n = 1
    for d in shape { n *= d }
    return n
    // END EXERCISE 2.1
}

/// Row-major ("C order") strides for a shape: the last axis moves by 1, each
/// earlier axis by the product of the sizes after it (a size of 0 counts as 1,
/// as in PyTorch).
///
///     contiguousStrides([2, 3, 4]) == [12, 4, 1]
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    // BEGIN EXERCISE 2.2 — row-major strides from a shape (Lessons/02-tensors.md)
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = step
        step *= max(shape[axis], 1)
    }
    return strides
    // END EXERCISE 2.2
}

/// The storage offset of the element at `index`: `offset + Σ index[i]·strides[i]`.
public func storageOffset(of index: [Int], strides: [Int], offset: Int = 0) -> Int {
    // BEGIN EXERCISE 2.3 — from a multi-index to a place in storage (Lessons/02-tensors.md)
    var position = offset
    for axis in 0..<index.count { position += index[axis] * strides[axis] }
    return position
    // END EXERCISE 2.3
}

/// Whether a (shape, strides) pair walks memory exactly in row-major order with
/// no gaps — the condition for the fast flat-loop kernels. Axes of size 1 may
/// have any stride.
public func isContiguous(shape: [Int], strides: [Int]) -> Bool {
    // BEGIN EXERCISE 2.4 — is a layout row-major without gaps? (Lessons/02-tensors.md)
    if shape.contains(0) { return true }  // no elements: nothing can be out of place
    var expected = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
        if strides[axis] != expected { return false }
        expected *= shape[axis]
    }
    return true
    // END EXERCISE 2.4
}

/// The shape two operands broadcast to, following NumPy/PyTorch rules: align
/// the shapes at their last axis; two sizes are compatible when equal or when
/// one of them is 1. Traps with a message naming `op` and both shapes otherwise.
///
///     broadcastShapes([3, 1], [4]) == [3, 4]
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
    // BEGIN EXERCISE 3.1 — the shape two shapes broadcast to (Lessons/03-broadcasting.md)
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        // Align at the last axis: a shorter shape counts as having leading 1s.
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        require(da == db || da == 1 || db == 1,
                "\(op): shapes \(a) and \(b) cannot be broadcast together (axis \(i): \(da) vs \(db))")
        result[i] = da == 1 ? db : da
    }
    return result
    // END EXERCISE 3.1
}

/// The strides that let a tensor of `shape`/`strides` be read as if it had the
/// larger broadcast shape `target`: new leading axes and stretched size-1 axes
/// get stride 0, so the same element is read again and again without copying.
///
///     broadcastStrides(shape: [3], strides: [1], to: [2, 3]) == [0, 1]
///     broadcastStrides(shape: [2, 1], strides: [1, 1], to: [2, 3]) == [1, 0]
public func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
    // BEGIN EXERCISE 3.2 — stride 0: read a small tensor as a broadcast one (Lessons/03-broadcasting.md)
    let lead = target.count - shape.count
    require(lead >= 0, "expand: cannot expand \(shape) to fewer dimensions \(target)")
    var result = [Int](repeating: 0, count: target.count)  // new leading axes: stride 0
    for i in 0..<shape.count {
        if shape[i] == target[lead + i] {
            result[lead + i] = strides[i]
        } else {
            require(shape[i] == 1, "expand: shape \(shape) cannot be expanded to \(target)")
            result[lead + i] = 0  // a stretched size-1 axis: stride 0
        }
    }
    return result
    // END EXERCISE 3.2
}

/// Turns a possibly negative axis (−1 is the last) into an index in `0..<rank`,
/// trapping with a message naming `op` when it is out of range.
public func normalizedAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    require(a >= 0 && a < max(rank, 1), "\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
    return a
}

/// The layout of a permuted view: axis `i` of the result is axis `order[i]`
/// of the source, so the result's shape and strides are the source's, reordered.
/// No element moves — only the bookkeeping does.
///
///     permutedLayout(shape: [2, 3], strides: [3, 1], order: [1, 0]) == ([3, 2], [1, 3])
public func permutedLayout(shape: [Int], strides: [Int], order: [Int]) -> (shape: [Int], strides: [Int]) {
    // BEGIN EXERCISE 2.5 — the layout of a permuted view (Lessons/02-tensors.md)
    return (order.map { shape[$0] }, order.map { strides[$0] })
    // END EXERCISE 2.5
}

/// The layout of the slice `start, start + step, …` (below `end`) along
/// `axis`: the offset moves to the first kept element, the axis shrinks to
/// the number of kept elements, and its stride grows by `step`. Assumes
/// `0 ≤ start ≤ end ≤ shape[axis]` and `step ≥ 1`.
///
///     slicedLayout(shape: [10], strides: [1], offset: 0, axis: 0, start: 2, end: 9, step: 3)
///         == ([3], [3], 2)      // elements 2, 5, 8
public func slicedLayout(shape: [Int], strides: [Int], offset: Int, axis: Int, start: Int, end: Int,
                         step: Int) -> (shape: [Int], strides: [Int], offset: Int) {
    // BEGIN EXERCISE 2.6 — the layout of a slice with a step (Lessons/02-tensors.md)
    var newShape = shape, newStrides = strides
    newShape[axis] = (end - start + step - 1) / step
    newStrides[axis] = strides[axis] * step
    return (newShape, newStrides, offset + start * strides[axis])
    // END EXERCISE 2.6
}
