// Shape arithmetic: the small functions every strided tensor library is
// built on. Each is one idea; lesson 2 (strides, offsets) and lesson 3
// (broadcasting) ask you to write them.

/// The number of elements in a tensor of the given shape (1 for a scalar `[]`).
public func elementCount(_ shape: [Int]) -> Int {
    // BEGIN EXERCISE 2.1 — the number of elements of a shape (Lessons/02-tensors.md)
    fatalError("Exercise 2.1 is not done yet: the number of elements of a shape — see Lessons/02-tensors.md")
    // END EXERCISE 2.1
}

/// Row-major ("C order") strides for a shape: the last axis moves by 1, each
/// earlier axis by the product of the sizes after it (a size of 0 counts as 1,
/// as in PyTorch).
///
///     contiguousStrides([2, 3, 4]) == [12, 4, 1]
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    // BEGIN EXERCISE 2.2 — row-major strides from a shape (Lessons/02-tensors.md)
    fatalError("Exercise 2.2 is not done yet: row-major strides from a shape — see Lessons/02-tensors.md")
    // END EXERCISE 2.2
}

/// The storage offset of the element at `index`: `offset + Σ index[i]·strides[i]`.
public func storageOffset(of index: [Int], strides: [Int], offset: Int = 0) -> Int {
    // BEGIN EXERCISE 2.3 — from a multi-index to a place in storage (Lessons/02-tensors.md)
    fatalError("Exercise 2.3 is not done yet: from a multi-index to a place in storage — see Lessons/02-tensors.md")
    // END EXERCISE 2.3
}

/// Whether a (shape, strides) pair walks memory exactly in row-major order with
/// no gaps — the condition for the fast flat-loop kernels. Axes of size 1 may
/// have any stride.
public func isContiguous(shape: [Int], strides: [Int]) -> Bool {
    // BEGIN EXERCISE 2.4 — is a layout row-major without gaps? (Lessons/02-tensors.md)
    fatalError("Exercise 2.4 is not done yet: is a layout row-major without gaps? — see Lessons/02-tensors.md")
    // END EXERCISE 2.4
}

/// The shape two operands broadcast to, following NumPy/PyTorch rules: align
/// the shapes at their last axis; two sizes are compatible when equal or when
/// one of them is 1. Traps with a message naming `op` and both shapes otherwise.
///
///     broadcastShapes([3, 1], [4]) == [3, 4]
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
    // BEGIN EXERCISE 3.1 — the shape two shapes broadcast to (Lessons/03-broadcasting.md)
    fatalError("Exercise 3.1 is not done yet: the shape two shapes broadcast to — see Lessons/03-broadcasting.md")
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
    fatalError("Exercise 3.2 is not done yet: stride 0: read a small tensor as a broadcast one — see Lessons/03-broadcasting.md")
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
    fatalError("Exercise 2.5 is not done yet: the layout of a permuted view — see Lessons/02-tensors.md")
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
    fatalError("Exercise 2.6 is not done yet: the layout of a slice with a step — see Lessons/02-tensors.md")
    // END EXERCISE 2.6
}
