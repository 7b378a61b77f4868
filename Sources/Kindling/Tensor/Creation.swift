#if canImport(Glibc)
import Glibc
#endif

// Ways to make a tensor from nothing. Every result is contiguous and owns
// fresh storage.
extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(storage: Storage(repeating: value, count: elementCount(shape)), shape: shape,
               strides: contiguousStrides(shape), requiresGrad: requiresGrad)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 0, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// Zeros with the same shape as `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// `[start, start + step, …]` up to but excluding `end`, as a 1-D tensor.
    /// With one argument, like Python's `range`: `arange(5)` is `[0, 1, 2, 3, 4]`.
    public static func arange(_ start: Float, _ end: Float? = nil, step: Float = 1) -> Tensor {
        require(step != 0, "arange: step must not be zero")
        let (start, end) = end.map { (start, $0) } ?? (0, start)
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Float($0) * step })
    }

    /// The `n`×`n` identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        let t = zeros([n, n])
        for i in 0..<n { t.storage.base[i * n + i] = 1 }
        return t
    }

    /// A tensor whose elements are produced one by one by `generate`, drawing
    /// from the generator in effect (see `withSeed(_:_:)`).
    static func random(_ shape: [Int], requiresGrad: Bool,
                       _ generate: (inout SeededGenerator) -> Float) -> Tensor {
        let storage = Storage(uninitializedCount: elementCount(shape))
        withRandomGenerator { g in
            for i in 0..<storage.count { storage.base[i] = generate(&g) }
        }
        return Tensor(storage: storage, shape: shape, strides: contiguousStrides(shape),
                      requiresGrad: requiresGrad)
    }

    /// Uniform samples in `[0, 1)`.
    public static func rand(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        random(shape, requiresGrad: requiresGrad) { $0.nextUnitFloat() }
    }

    /// Standard normal samples (mean 0, standard deviation 1).
    public static func randn(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        random(shape, requiresGrad: requiresGrad) { $0.nextNormal() }
    }

    /// Uniform samples in `[low, high)`.
    public static func uniform(_ shape: [Int], low: Float, high: Float, requiresGrad: Bool = false) -> Tensor {
        random(shape, requiresGrad: requiresGrad) { low + (high - low) * $0.nextUnitFloat() }
    }

    /// A contiguous copy with its own storage (recorded for autograd).
    public func copy() -> Tensor {
        let out = Tensor(storage: Storage(uninitializedCount: count), shape: shape)
        copyElements(from: self, into: out.storage.base)
        return Tensor.record(out, op: "copy", inputs: [self]) { g in [g] }
    }
}
