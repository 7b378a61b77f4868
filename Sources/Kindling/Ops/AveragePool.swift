// Average pooling over NCHW images: each output is the mean of a window of its
// input plane. Two ways to choose the windows:
//
//   avgPool2d           a fixed kernel moved by a stride (PyTorch's AvgPool2d,
//                       zeros padding counted in the mean, as its default
//                       count_include_pad=True does);
//   adaptiveAvgPool2d   the output size is fixed instead, and the windows are
//                       the bins [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉) — with output 1×1,
//                       global average pooling, the head of most modern CNNs.
//
// Either way the backward rule is the same: each output's gradient, divided by
// its window's divisor, goes back to every input position of the window.

/// One axis of a pooling: for each output index, the input range its window
/// covers (clipped to the input) and what the sum is divided by.
struct PoolWindows {
    let ranges: [Range<Int>]
    let divisors: [Int]
    var count: Int { ranges.count }

    /// A kernel moved by a stride over an input padded on both sides.
    static func sliding(input: Int, kernel: Int, stride: Int, padding: Int) -> PoolWindows {
        let outputs = convOutputSize(input, kernel: kernel, stride: stride, padding: padding)
        let ranges = (0..<Swift.max(outputs, 0)).map { o -> Range<Int> in
            let start = o * stride - padding
            return Swift.max(start, 0)..<Swift.min(start + kernel, input)
        }
        return PoolWindows(ranges: ranges, divisors: Array(repeating: kernel, count: ranges.count))
    }

    /// `outputs` bins covering the input: [⌊i·n/o⌋, ⌈(i+1)·n/o⌉).
    static func adaptive(input: Int, outputs: Int) -> PoolWindows {
        let ranges = (0..<outputs).map { i in (i * input) / outputs ..< ((i + 1) * input + outputs - 1) / outputs }
        return PoolWindows(ranges: ranges, divisors: ranges.map(\.count))
    }
}

extension Tensor {
    /// Average pooling over `kernelSize`×`kernelSize` windows moved by
    /// `stride` (default: the kernel size), with `padding` zeros on each side
    /// counted in the mean.
    public func avgPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let s = stride ?? kernelSize
        require(rank == 4, "avgPool2d: input \(shape) must be [N, C, H, W]")
        require(kernelSize >= 1 && s >= 1 && padding >= 0 && padding <= kernelSize / 2,
                "avgPool2d: kernel \(kernelSize) and stride \(s) must be ≥ 1, padding \(padding) between 0 and half the kernel")
        let rows = PoolWindows.sliding(input: shape[2], kernel: kernelSize, stride: s, padding: padding)
        let columns = PoolWindows.sliding(input: shape[3], kernel: kernelSize, stride: s, padding: padding)
        require(rows.count > 0 && columns.count > 0,
                "avgPool2d: kernel \(kernelSize) does not fit input \(shape) with padding \(padding)")
        return averagePool(rows, columns, op: "avgPool2d")
    }

    /// Average pooling to an output of `outputSize` (rows, columns), whatever
    /// the input's size: `adaptiveAvgPool2d((1, 1))` averages each plane.
    public func adaptiveAvgPool2d(_ outputSize: (Int, Int)) -> Tensor {
        require(rank == 4, "adaptiveAvgPool2d: input \(shape) must be [N, C, H, W]")
        require(outputSize.0 >= 1 && outputSize.1 >= 1 && outputSize.0 <= shape[2] && outputSize.1 <= shape[3],
                "adaptiveAvgPool2d: output size \(outputSize) must be at least 1×1 and at most the input's \(shape[2])×\(shape[3])")
        return averagePool(PoolWindows.adaptive(input: shape[2], outputs: outputSize.0),
                           PoolWindows.adaptive(input: shape[3], outputs: outputSize.1), op: "adaptiveAvgPool2d")
    }

    /// The mean of each window rows × columns of every plane, and its rule.
    func averagePool(_ rows: PoolWindows, _ columns: PoolWindows, op: String) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (rows.count, columns.count)
        let x = contiguous().detach()
        let out = Tensor(storage: Storage(uninitializedCount: n * c * oh * ow), shape: [n, c, oh, ow])
        let src = x.storage.base + x.offset, dst = out.storage.base
        parallelChunks(n * c, minimumWork: count) { planes in
            for plane in planes {
                let image = src + plane * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum: Float = 0
                        for iy in rows.ranges[oy] { for ix in columns.ranges[ox] { sum += image[iy * w + ix] } }
                        dst[(plane * oh + oy) * ow + ox] = sum / Float(rows.divisors[oy] * columns.divisors[ox])
                    }
                }
            }
        }
        withExtendedLifetime(x) {}
        let original = shape
        return Tensor.record(out, op: op, inputs: [self]) { g in
            let dx = Tensor.zeros(original)
            let gc = g.contiguous()
            let gs = gc.storage.base + gc.offset, d = dx.storage.base
            parallelChunks(n * c, minimumWork: original.reduce(1, *)) { planes in
                for plane in planes {
                    let image = d + plane * h * w
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let share = gs[(plane * oh + oy) * ow + ox] / Float(rows.divisors[oy] * columns.divisors[ox])
                            for iy in rows.ranges[oy] { for ix in columns.ranges[ox] { image[iy * w + ix] += share } }
                        }
                    }
                }
            }
            withExtendedLifetime(gc) {}
            return [dx]
        }
    }
}
