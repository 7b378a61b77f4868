// The hidden tests' own reference arithmetic, written out by hand and
// independent of the exercises (which may be a learner's unfinished code).
// Shared by the lesson files that need the same piece.

/// Every multi-index of `shape` in row-major order.
func indicesOf(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for n in shape { result = result.flatMap { prefix in (0..<n).map { prefix + [$0] } } }
    return result
}

/// The row-major position of `index` in `shape`.
func position(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// Row-major strides (size 0 counts as 1, as in PyTorch).
func referenceStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in shape.indices.reversed() {
        strides[axis] = step
        step *= Swift.max(shape[axis], 1)
    }
    return strides
}

/// Row-major A (m×k) × B (k×n), summed in Double.
func referenceProduct(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
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
