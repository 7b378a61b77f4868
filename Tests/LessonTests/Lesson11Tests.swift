import Foundation
import Testing
import Kindling

// Lesson 11 — convolution and pooling (Lessons/11-convolution.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson11           all of lesson 11
//     swift test --filter Exercise_11_4      one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 11.x is not done yet" — that is the
// next one to do. Each exercise's tests use only that exercise and earlier ones
// (and the finished lessons before this one): the convolution the tests compare
// with is written out below, in the tests themselves.

/// Small integers as floats, so sums are exact.
private func integers(_ count: Int, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int(g.next(upperBound: UInt64(7))) - 3) }
}

/// The convolution of "The sliding window", worked out by the test on row-major arrays.
private func referenceConv(_ x: [Float], _ shape: [Int], _ w: [Float], _ wShape: [Int], bias: [Float]?,
                           stride: Int, padding: Int, dilation: Int = 1) -> (values: [Float], shape: [Int]) {
    let (n, c, h, wd) = (shape[0], shape[1], shape[2], shape[3])
    let (o, kh, kw) = (wShape[0], wShape[2], wShape[3])
    let oh = (h + 2 * padding - dilation * (kh - 1) - 1) / stride + 1
    let ow = (wd + 2 * padding - dilation * (kw - 1) - 1) / stride + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    for b in 0..<n { for f in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
        var sum = bias?[f] ?? 0
        for ch in 0..<c { for i in 0..<kh { for j in 0..<kw {
            let iy = oy * stride - padding + i * dilation, ix = ox * stride - padding + j * dilation
            if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                sum += x[((b * c + ch) * h + iy) * wd + ix] * w[((f * c + ch) * kh + i) * kw + j]
            }
        }}}
        out[((b * o + f) * oh + oy) * ow + ox] = sum
    }}}}
    return (out, [n, o, oh, ow])
}

/// The first index where `got` and `expected` differ by more than `tolerance`, described.
private func mismatch(_ got: [Float], _ expected: [Float], tolerance: Float = 1e-4) -> String? {
    guard got.count == expected.count else { return "\(got.count) values, expected \(expected.count)" }
    for k in got.indices where !(abs(got[k] - expected[k]) <= tolerance) {
        return "element \(k) is \(got[k]), expected \(expected[k])"
    }
    return nil
}

/// What column `col` of row `r` of im2col holds, read from the image by the test.
private func windowValue(_ x: [Float], _ shape: [Int], kernel: (Int, Int), stride: Int, padding: Int, dilation: Int,
                         row r: Int, column col: Int) -> Float {
    let (c, h, w) = (shape[1], shape[2], shape[3])
    let (kh, kw) = kernel
    let oh = (h + 2 * padding - dilation * (kh - 1) - 1) / stride + 1
    let ow = (w + 2 * padding - dilation * (kw - 1) - 1) / stride + 1
    let (ch, i, j) = (r / (kh * kw), (r / kw) % kh, r % kw)
    let (n, oy, ox) = (col / (oh * ow), (col / ow) % oh, col % ow)
    let iy = oy * stride - padding + i * dilation, ix = ox * stride - padding + j * dilation
    guard iy >= 0 && iy < h && ix >= 0 && ix < w else { return 0 }
    return x[((n * c + ch) * h + iy) * w + ix]
}

@Suite("Lesson11", .serialized) struct Lesson11 {

    // MARK: 11.1 — floor division

    @Suite("11.1 floorDivide") struct Exercise_11_1 {
        @Test func positiveNumeratorsDivideAsUsual() {
            for (a, b) in [(7, 2), (6, 3), (0, 5), (1, 1), (29, 4)] {
                #expect(floorDivide(a, b) == a / b, "floorDivide(\(a), \(b)) should be \(a / b), got \(floorDivide(a, b))")
            }
        }

        @Test func negativeNumeratorsRoundDownNotTowardZero() {
            for (a, b, floor) in [(-1, 2, -1), (-7, 2, -4), (-6, 2, -3), (-1, 5, -1), (-10, 3, -4), (-9, 3, -3)] {
                let got = floorDivide(a, b)
                #expect(got == floor, "floorDivide(\(a), \(b)) should be ⌊\(a)/\(b)⌋ = \(floor), got \(got)\(got == a / b && a % b != 0 ? " — that is Swift's `/`, which truncates toward zero; the floor rounds toward −∞" : "")")
            }
        }

        @Test func theDefinition() {
            // ⌊a/b⌋ is the q with q·b ≤ a < (q + 1)·b.
            for a in -25...25 {
                for b in 1...6 {
                    let q = floorDivide(a, b)
                    #expect(q * b <= a && a < (q + 1) * b, "floorDivide(\(a), \(b)) = \(q): the floor is the q with q·\(b) ≤ \(a) < (q + 1)·\(b)")
                }
            }
        }

        @Test func theLargestAndSmallestIntegers() {
            #expect(floorDivide(Int.min, 2) == Int.min / 2, "floorDivide(Int.min, 2) should be \(Int.min / 2) — does an intermediate step overflow, such as −a?")
            #expect(floorDivide(Int.min + 1, 3) == (Int.min + 1) / 3 - 1, "floorDivide(Int.min + 1, 3) should be \((Int.min + 1) / 3 - 1)")
            #expect(floorDivide(Int.max, 1) == Int.max && floorDivide(Int.max, 2) == Int.max / 2,
                    "floorDivide(Int.max, 1) is Int.max and floorDivide(Int.max, 2) is \(Int.max / 2); a trip through Double loses the low bits")
        }

        @Test func outputSizesUseIt() {
            #expect(convOutputSize(28, kernel: 3, stride: 2, padding: 1) == 14, "28 wide, kernel 3, stride 2, padding 1: 14 outputs")
            let notFitting = convOutputSize(1, kernel: 4, stride: 2, padding: 1)
            #expect(notFitting <= 0, "a 4-wide kernel does not fit a 1-wide input padded to 3: no outputs, got \(notFitting)\(notFitting == 1 ? " — ⌊−1/2⌋ + 1 = 0, but truncation gives 0 + 1 = 1" : "")")
        }
    }

    // MARK: 11.2 — the sliding window, by loops

    @Suite("11.2 conv2dByLoops") struct Exercise_11_2 {
        @Test func anEdgeFilterOnARamp() {
            let x = Tensor.arange(16).reshaped([1, 1, 4, 4])
            let edges = Tensor([1, 0, -1, 1, 0, -1, 1, 0, -1], shape: [1, 1, 3, 3])
            let y = x.conv2dByLoops(edges)
            #expect(y.shape == [1, 1, 2, 2], "4×4 with a 3×3 kernel, no padding: 2×2, got \(y.shape)")
            #expect(y.toArray() == [-6, -6, -6, -6], "every window of a ramp rising by 1 to the right gives 3·(x − (x + 2)) = −6, got \(y.toArray())")
        }

        @Test func theBiasIsAddedOncePerOutput() {
            let x = Tensor.ones([1, 2, 3, 3]), w = Tensor.ones([2, 2, 1, 1])
            let y = x.conv2dByLoops(w, bias: Tensor([10, -1]))
            #expect(y.toArray() == Array(repeating: 12, count: 9) + Array(repeating: 1, count: 9),
                    "two channels of ones through 1×1 filters of ones: 2 + bias (10 and −1), got \(y.toArray()) — start each output's sum from its filter's bias")
        }

        @Test func paddingReadsZeros() {
            let x = Tensor.ones([1, 1, 3, 3]), w = Tensor.ones([1, 1, 3, 3])
            let y = x.conv2dByLoops(w, padding: 1)
            #expect(y.toArray() == [4, 6, 4, 6, 9, 6, 4, 6, 4],
                    "a 3×3 sum over ones with padding 1 counts the real pixels under each window (4 in a corner, 6 on an edge, 9 inside), got \(y.toArray()) — a tap outside 0..<H or 0..<W reads 0")
        }

        @Test func nonSquareKernelsStridesAndManyChannels() {
            var g = SeededGenerator(seed: 11)
            for (shape, wShape, stride, padding) in [([2, 3, 5, 7], [4, 3, 2, 3], 1, 0), ([1, 2, 6, 4], [3, 2, 3, 1], 2, 1),
                                                     ([3, 1, 4, 9], [2, 1, 1, 4], 3, 2)] {
                let x = integers(shape.reduce(1, *), &g), w = integers(wShape.reduce(1, *), &g), b = integers(wShape[0], &g)
                let expected = referenceConv(x, shape, w, wShape, bias: b, stride: stride, padding: padding)
                let y = Tensor(x, shape: shape).conv2dByLoops(Tensor(w, shape: wShape), bias: Tensor(b), stride: stride, padding: padding)
                #expect(y.shape == expected.shape, "input \(shape), kernel \(wShape), stride \(stride), padding \(padding): shape \(expected.shape), got \(y.shape)")
                if let problem = mismatch(y.toArray(), expected.values) {
                    Issue.record("input \(shape), kernel \(wShape) (non-square: KH = \(wShape[2]), KW = \(wShape[3])), stride \(stride), padding \(padding): \(problem)")
                }
            }
        }
    }

    // MARK: 11.3 — which windows see real pixels

    @Suite("11.3 validOutputs") struct Exercise_11_3 {
        @Test func theLessonsPicture() {
            let ranges = (0..<3).map { validOutputs(tap: $0, input: 5, outputs: 3, stride: 2, padding: 1) }
            #expect(ranges == [1..<3, 0..<3, 0..<2], "width 5, kernel 3, stride 2, padding 1: taps 0, 1, 2 see real pixels in outputs 1..<3, 0..<3, 0..<2, got \(ranges)")
        }

        @Test func aNarrowImageUnderAWideKernel() {
            let range = validOutputs(tap: 2, input: 1, outputs: 1, stride: 2, padding: 1)
            #expect(range.isEmpty, "a 1-wide image, tap 2, stride 2, padding 1: the tap reads x[1], which does not exist, so no output; got \(range)\(range == 0..<1 ? " — ⌊(1 − 1 + 1 − 2)/2⌋ = ⌊−1/2⌋ = −1, but Swift's `/` truncates it to 0: use floorDivide" : "")")
            let left = validOutputs(tap: 0, input: 4, outputs: 2, stride: 3, padding: 2)
            #expect(left == 1..<2, "width 4, stride 3, padding 2, tap 0: output 0 reads position −2 (padding), output 1 position 1; got \(left)\(left == 0..<2 ? " — o ≥ ⌈(p − tap)/s⌉ = ⌈2/3⌉ = 1: the lower end is a ceiling" : "")")
        }

        @Test func againstCountingEveryOutput() {
            for input in 1...6 { for stride in 1...3 { for padding in 0...3 { for tap in 0...6 {
                let outputs = max(0, convOutputSize(input, kernel: 7, stride: stride, padding: padding))
                let inside = (0..<outputs).filter { o in (0..<input).contains(o * stride - padding + tap) }
                let range = validOutputs(tap: tap, input: input, outputs: outputs, stride: stride, padding: padding)
                let expected = inside.isEmpty ? "empty" : "\(inside.first!)..<\(inside.last! + 1)"
                #expect(Array(range) == inside,
                        "input \(input), outputs \(outputs), stride \(stride), padding \(padding), tap \(tap): \(expected), got \(range)\(Array(range).count > inside.count ? " — too many: check floor and ceiling with a negative numerator (truncation rounds toward zero)" : "")")
            }}}}
        }
    }

    // MARK: 11.4 — im2col

    @Suite("11.4 im2col") struct Exercise_11_4 {
        @Test func oneImageNoPadding() {
            let x = Tensor.arange(9).reshaped([1, 1, 3, 3])
            let cols = x.im2col(kernelSize: (2, 2))
            #expect(cols.shape == [4, 4], "3×3 image, 2×2 kernel: 4 taps × 4 windows, got \(cols.shape)")
            #expect(cols.toArray() == [0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8],
                    "row r is tap (i, j) = (r / 2, r % 2) of each window: [0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]; got \(cols.toArray())")
        }

        @Test func everyEntryIsWritten() {
            let x = Tensor.ones([2, 2, 3, 4])
            let values = x.im2col(kernelSize: (3, 3), stride: 2, padding: 2).toArray()
            let unwritten = values.filter(\.isNaN).count
            #expect(unwritten == 0, "\(unwritten) of \(values.count) entries were left unwritten (NaN) — write the zeros of the padding too: cols is fresh memory")
        }

        @Test func stridePaddingAndDilation() {
            var g = SeededGenerator(seed: 4)
            for (shape, kernel, stride, padding, dilation) in [([2, 2, 5, 6], (3, 3), 2, 1, 1), ([1, 3, 4, 7], (2, 3), 1, 2, 1),
                                                               ([2, 1, 7, 5], (3, 2), 1, 1, 2), ([1, 2, 1, 1], (3, 3), 2, 1, 1)] {
                let x = integers(shape.reduce(1, *), &g)
                let cols = Tensor(x, shape: shape).im2col(kernelSize: kernel, stride: stride, padding: padding, dilation: dilation)
                let values = cols.toArray()
                let (rows, columns) = (cols.shape[0], cols.shape[1])
                var problem: String?
                search: for r in 0..<rows {
                    for col in 0..<columns {
                        let expected = windowValue(x, shape, kernel: kernel, stride: stride, padding: padding, dilation: dilation, row: r, column: col)
                        let got = values[r * columns + col]
                        if !(got == expected) {
                            problem = "row \(r) of the column matrix, column \(col), is \(got), expected \(expected)" + (got.isNaN ? " (never written)" : "")
                            break search
                        }
                    }
                }
                if let problem {
                    let note = dilation > 1 && !problem.hasSuffix("(never written)")
                        ? " — with dilation, tap (i, j) reads image row oy·stride − padding + i·dilation, image column ox·stride − padding + j·dilation" : ""
                    Issue.record("input \(shape), kernel \(kernel), stride \(stride), padding \(padding), dilation \(dilation): \(problem)\(note)")
                }
            }
        }

        @Test func oneProductIsTheConvolution() {
            var g = SeededGenerator(seed: 5)
            let shape = [2, 3, 6, 5], wShape = [4, 3, 3, 3]
            let x = integers(shape.reduce(1, *), &g), w = integers(wShape.reduce(1, *), &g)
            let expected = referenceConv(x, shape, w, wShape, bias: nil, stride: 1, padding: 1)
            let y = Tensor(x, shape: shape).conv2d(Tensor(w, shape: wShape), padding: 1)
            if let problem = mismatch(y.toArray(), expected.values) {
                Issue.record("conv2d (your im2col, then one matrix product) on input \(shape), kernel \(wShape), padding 1: \(problem)")
            }
        }
    }

    // MARK: 11.5 — col2im

    @Suite("11.5 col2im") struct Exercise_11_5 {
        @Test func overlappingWindowsAddUp() {
            let ones = Tensor.ones([9, 9])  // 3×3 taps × 3×3 windows of a 5×5 image
            let image = ones.col2im(imageShape: [1, 1, 5, 5], kernelSize: (3, 3))
            #expect(image.toArray() == [1, 2, 3, 2, 1, 2, 4, 6, 4, 2, 3, 6, 9, 6, 3, 2, 4, 6, 4, 2, 1, 2, 3, 2, 1],
                    "each pixel gets one 1 for every window that covers it (9 in the middle), got \(image.toArray()) — add each column's value into its pixel, do not assign")
        }

        @Test func theAdjointOfIm2col() {
            var g = SeededGenerator(seed: 6)
            for (shape, kernel, stride, padding, dilation) in [([2, 2, 5, 6], (3, 3), 2, 1, 1), ([1, 3, 4, 7], (2, 3), 1, 2, 1),
                                                               ([2, 1, 7, 5], (3, 2), 1, 1, 2), ([1, 1, 1, 2], (3, 3), 2, 1, 1)] {
                let x = Tensor(integers(shape.reduce(1, *), &g), shape: shape)
                let cols = x.im2col(kernelSize: kernel, stride: stride, padding: padding, dilation: dilation)
                let y = Tensor(integers(cols.count, &g), shape: cols.shape)
                let back = y.col2im(imageShape: shape, kernelSize: kernel, stride: stride, padding: padding, dilation: dilation)
                let left = zip(cols.toArray(), y.toArray()).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let right = zip(x.toArray(), back.toArray()).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                #expect(left == right, "input \(shape), kernel \(kernel), stride \(stride), padding \(padding), dilation \(dilation): ⟨im2col(x), y⟩ = \(left) but ⟨x, col2im(y)⟩ = \(right) — col2im must add every entry back exactly where im2col copied it from, and skip the padding")
            }
        }

        @Test func conv2dGradientsAgainstFiniteDifferences() {
            manualSeed(2)
            let x = Tensor.randn([2, 2, 5, 4], requiresGrad: true)
            let w = Tensor.randn([3, 2, 3, 2], requiresGrad: true), b = Tensor.randn([3], requiresGrad: true)
            let report = gradcheck([x, w, b]) { t in t[0].conv2d(t[1], bias: t[2], stride: 2, padding: 1) }
            let summary = "\(report)".split(separator: "\n").joined(separator: "; ")
            #expect(report.passed, "conv2d's gradients (stride 2, padding 1, a 3×2 kernel) against finite differences: \(summary)")
        }

        @Test func aBatchSplitAcrossCores() {
            // 16 images of 8 channels: enough work that col2im runs on every core, each on its own images.
            var g = SeededGenerator(seed: 9)
            let shape = [16, 8, 16, 16]
            let x = Tensor(integers(shape.reduce(1, *), &g), shape: shape)
            let cols = x.im2col(kernelSize: (3, 3), padding: 1)
            let y = Tensor(integers(cols.count, &g), shape: cols.shape)
            let back = y.col2im(imageShape: shape, kernelSize: (3, 3), padding: 1)
            let left = zip(cols.toArray(), y.toArray()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let right = zip(x.toArray(), back.toArray()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(left == right, "16 images of 8 channels, 16×16, kernel 3, padding 1: ⟨im2col(x), y⟩ = \(left) but ⟨x, col2im(y)⟩ = \(right)\(abs(right) > 1.5 * abs(left) ? " — about \(Int((right / left).rounded()))×: each core must add only the images in `batch`, not all of 0..<g.n" : "")")
        }
    }

    // MARK: 11.6 — max pooling's windows

    @Suite("11.6 maxPoolWindows") struct Exercise_11_6 {
        @Test func threeByThreeWindowsWithStrideTwo() {
            let x = Tensor((0..<25).map { Float(($0 * 7) % 25) }, shape: [1, 1, 5, 5])
            let y = x.maxPool2d(kernelSize: 3, stride: 2)
            // x = 0 7 14 21 3 / 10 17 24 6 13 / 20 2 9 16 23 / 5 12 19 1 8 / 15 22 4 11 18
            #expect(y.toArray() == [24, 24, 22, 23], "the maxima of the four 3×3 windows at (0,0), (0,2), (2,0), (2,2) are 24, 24, 22, 23, got \(y.toArray())")
        }

        @Test func tiesGoToTheFirstMaximum() {
            let x = Tensor([1, 4, 4, 2, 4, 0, 3, 4, 1], shape: [1, 1, 3, 3])
            let y = x.maxPool2d(kernelSize: 3)
            let routed = x.maxPool2dIndices(kernelSize: 3)
            #expect(y.toArray() == [4] && routed == [1], "four 4s tie; the first in reading order is at flat index 1, got index \(routed)\(routed == [7] ? " — the last one wins: compare with > (strictly greater), not ≥, so the first maximum stays" : "")")
        }

        @Test func nanIsTheMaximum() {
            let x = Tensor([1, .nan, 3, 2, 5, 0, .nan, 9, 4], shape: [1, 1, 3, 3])
            let y = x.maxPool2d(kernelSize: 3, stride: 2)
            #expect(y.toArray().first?.isNaN == true, "a window holding a NaN has NaN as its maximum (it must not vanish), got \(y.toArray()) — NaN > x is always false, so let a NaN in explicitly")
        }

        @Test func agreesWithTheFastPath() {
            var g = SeededGenerator(seed: 7)
            let values: [Float] = (0..<(3 * 2 * 6 * 8)).map { _ in Float(Int(g.next(upperBound: UInt64(5)))) }  // many ties
            let x = Tensor(values, shape: [3, 2, 6, 8])
            let fast = x.maxPool2d(kernelSize: 2)                 // the 2×2 fast path
            let readable = x.maxPool2d(kernelSize: 2, stride: 3)   // your windows, every third
            #expect(fast.shape == [3, 2, 3, 4] && readable.shape == [3, 2, 2, 3], "shapes \(fast.shape) and \(readable.shape)")
            let f = fast.toArray(), r = readable.toArray()
            let fi = x.maxPool2dIndices(kernelSize: 2), ri = x.maxPool2dIndices(kernelSize: 2, stride: 3)
            // The windows with corners (0, 0) and (0, 6) are on both paths.
            for plane in 0..<6 {
                let (a, b, c, d) = (plane * 6, plane * 6 + 2, plane * 12, plane * 12 + 3)
                let same = r[a] == f[c] && r[b] == f[d] && ri[a] == fi[c] && ri[b] == fi[d]
                let yours = "\(r[a]) at \(ri[a]), \(r[b]) at \(ri[b])", fasts = "\(f[c]) at \(fi[c]), \(f[d]) at \(fi[d])"
                #expect(same, "plane \(plane): the 2×2 windows with top-left pixels (row 0, column 0) and (row 0, column 6) must have the same maximum and the same argmax on your path (\(yours)) as on the fast 2×2 path (\(fasts)); with ties, the first maximum in reading order wins")
            }
            let planes = x.toArray()
            for (k, at) in ri.enumerated() where planes[at] != r[k] {
                Issue.record("output \(k): the position \(at) recorded for the maximum holds \(planes[at]), not \(r[k]) — positions index the whole input: plane·h·w + y·w + x")
                break
            }
        }
    }

    // MARK: 11.7 — max pooling's backward

    @Suite("11.7 maxPoolBackward") struct Exercise_11_7 {
        @Test func theGradientGoesToTheArgmax() {
            let y = Tensor([1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 6, 7, 9, 1, 3, 3], shape: [1, 1, 4, 4], requiresGrad: true)
            (y.maxPool2d(kernelSize: 2) * Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])).sum().backward()
            #expect(y.grad?.toArray() == [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 4, 3, 0, 0, 0],
                    "each window's gradient (1, 2, 3, 4) goes to its maximum (5, 8, 9, 7) and nowhere else, got \(y.grad?.toArray() ?? [])")
        }

        @Test func overlappingWindowsAddTheirGradients() {
            let z = Tensor([1, 2, 3, 9, 4, 5, 6, 7, 8], shape: [1, 1, 3, 3], requiresGrad: true)
            z.maxPool2d(kernelSize: 2, stride: 1).sum().backward()
            let grad = z.grad?.toArray() ?? []
            #expect(grad == [0, 0, 0, 2, 0, 1, 0, 0, 1],
                    "the 9 is the maximum of two overlapping windows, so it gets 1 + 1 = 2; got \(grad)\(grad.max() == 1 ? " — add each gradient into its position (+=), do not assign: with overlapping windows one input can be the maximum of several" : "")")
        }

        @Test func threeByThreeWindowsStrideTwoManyPlanes() {
            var g = SeededGenerator(seed: 8)
            let shape = [2, 3, 7, 6]
            let x = Tensor((0..<shape.reduce(1, *)).map { _ in g.nextNormal() }, shape: shape, requiresGrad: true)
            let weights = Tensor((0..<(2 * 3 * 3 * 2)).map { Float($0 % 5) - 2 }, shape: [2, 3, 3, 2])
            (x.maxPool2d(kernelSize: 3, stride: 2) * weights).sum().backward()
            let positions = x.maxPool2dIndices(kernelSize: 3, stride: 2)
            var expected = [Float](repeating: 0, count: x.count)
            for (k, at) in positions.enumerated() { expected[at] += weights.toArray()[k] }
            let got = x.grad?.toArray() ?? []
            let first = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(got == expected, "3×3 windows, stride 2 (overlapping by one row and column), 2 images × 3 channels: each gradient added at its argmax\(first.map { "; input \($0.offset) got \($0.element.0), expected \($0.element.1)" } ?? "")")
        }
    }

    // MARK: 11.8 — receptive fields

    @Suite("11.8 receptiveField") struct Exercise_11_8 {
        @Test func stackedConvolutions() {
            #expect(receptiveField([]) == (1, 1), "no layers: one pixel sees itself, (1, 1), got \(receptiveField([]))")
            let two = receptiveField([Window(kernel: 3), Window(kernel: 3)])
            #expect(two == (5, 1), "two 3×3 convolutions see 5×5 (like one 5×5), got \(two)")
            let dilated = receptiveField([Window(kernel: 3, dilation: 2)])
            #expect(dilated == (5, 1), "a 3×3 kernel with dilation 2 spans 5, got \(dilated)")
        }

        @Test func aStrideMultipliesWhatComesAfter() {
            let field = receptiveField([Window(kernel: 3), Window(kernel: 2, stride: 2), Window(kernel: 3)])
            #expect(field == (8, 2), "3×3 conv, 2×2 pool with stride 2, 3×3 conv: 3 → 4 → 8, jump 2; got \(field)\(field == (9, 2) ? " — the pool's own window counts in its input's steps: update size before jump" : "")")
            let strided = receptiveField([Window(kernel: 3, stride: 2), Window(kernel: 3, stride: 2), Window(kernel: 3)])
            #expect(strided == (15, 4), "three 3×3 convs, the first two with stride 2: 3, 3 + 2·2 = 7, 7 + 2·4 = 15, jump 4; got \(strided)")
        }

        @Test func theMilestoneNetwork() {
            let cnn = Sequential(Conv2d(1, 16, kernelSize: 3, padding: 1), ReLU(), Conv2d(16, 16, kernelSize: 3, padding: 1),
                                 MaxPool2d(2), Conv2d(16, 32, kernelSize: 3, padding: 1), Conv2d(32, 32, kernelSize: 3, padding: 1),
                                 MaxPool2d(2), Conv2d(32, 64, kernelSize: 3, padding: 1))
            let field = receptiveField(windows(of: cnn))
            #expect(field == (24, 4), "the milestone CNN's last convolution sees 24×24 pixels, its outputs 4 apart; got \(field)")
        }
    }
}
