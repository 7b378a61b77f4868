import Foundation
import Testing
import Kindling

// Hidden tests of lesson 11 (convolution and pooling). The grader maps each
// test to its exercise by the suite name `Exercise_11_N`; each suite uses only
// its own exercise and earlier ones. They probe what the visible tests do not:
// every small numerator and the edges of Int, a batch of one, one channel,
// kernels larger than the image, strides larger than the kernel, rectangular
// everything, non-contiguous (channels-last) inputs, dilation and groups,
// windows hanging over every edge, ties and NaN across many planes, and
// receptive fields against a brute-force count.
//
// Every test observes the values the learner's code produced (see
// Support/Observe.swift), drawn from the grading seed.

// MARK: - The tests' own reference (independent of the exercises)

/// Small random integers as Floats: sums of their products are exact in Float.
private func smallIntegers(_ count: Int, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(Int.random(in: -4...4, using: &g)) }
}

/// The definition of a convolution, on row-major arrays, with groups and dilation.
private func definitionConv(_ x: [Float], _ shape: [Int], _ w: [Float], _ wShape: [Int], bias: [Float]?,
                            stride: Int, padding: Int, dilation: Int = 1, groups: Int = 1) -> (values: [Float], shape: [Int]) {
    let (n, c, h, wd) = (shape[0], shape[1], shape[2], shape[3])
    let (o, cg, kh, kw) = (wShape[0], wShape[1], wShape[2], wShape[3])
    let span = { (k: Int) in dilation * (k - 1) + 1 }
    let oh = (h + 2 * padding - span(kh)) / stride + 1, ow = (wd + 2 * padding - span(kw)) / stride + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    for b in 0..<n { for f in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
        var sum = bias?[f] ?? 0
        let group = f / (o / groups)
        for k in 0..<cg { for i in 0..<kh { for j in 0..<kw {
            let ch = group * cg + k
            let iy = oy * stride - padding + i * dilation, ix = ox * stride - padding + j * dilation
            if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                sum += x[((b * c + ch) * h + iy) * wd + ix] * w[((f * cg + k) * kh + i) * kw + j]
            }
        }}}
        out[((b * o + f) * oh + oy) * ow + ox] = sum
    }}}}
    return (out, [n, o, oh, ow])
}

/// A random convolution case whose kernel fits the padded input.
private struct ConvCase: CustomStringConvertible {
    var shape: [Int], wShape: [Int], stride: Int, padding: Int, dilation = 1, groups = 1
    var description: String { "input \(shape), weight \(wShape), stride \(stride), padding \(padding), dilation \(dilation), groups \(groups)" }

    static func random(_ g: inout SeededGenerator, dilation: Bool = false, groups: Bool = false) -> ConvCase {
        while true {
            let d = dilation ? Int.random(in: 1...3, using: &g) : 1
            let gr = groups ? [1, 2, 3].randomElement(using: &g)! : 1
            let c = gr * Int.random(in: 1...2, using: &g), o = gr * Int.random(in: 1...2, using: &g)
            let kh = Int.random(in: 1...4, using: &g), kw = Int.random(in: 1...4, using: &g)
            let p = Int.random(in: 0...3, using: &g), s = Int.random(in: 1...4, using: &g)
            let h = Int.random(in: 1...7, using: &g), w = Int.random(in: 1...7, using: &g)
            let shape = [Int.random(in: 1...2, using: &g), c, h, w]
            if h + 2 * p >= d * (kh - 1) + 1 && w + 2 * p >= d * (kw - 1) + 1 {
                return ConvCase(shape: shape, wShape: [o, c / gr, kh, kw], stride: s, padding: p, dilation: d, groups: gr)
            }
        }
    }
}

/// The same values as `values` of `shape`, held channels-last and permuted back to NCHW (not contiguous).
private func channelsLastView(_ values: [Float], _ shape: [Int]) -> Tensor {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    var nhwc = [Float](repeating: 0, count: values.count)
    for b in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
        nhwc[((b * h + y) * w + x) * c + ch] = values[((b * c + ch) * h + y) * w + x]
    }}}}
    return Tensor(nhwc, shape: [n, h, w, c]).permuted([0, 3, 1, 2])
}

// MARK: - 11.1

@Suite struct Exercise_11_1 {
    @Test func everySmallNumeratorAndDivisor() {
        var got: [Int] = []
        for a in -60...60 { for b in 1...9 { got.append(floorDivide(a, b)) } }
        observe("floorDivide(a, b) for a in −60…60, b in 1…9", got)
        var g = SeededGenerator(seed: graded(111))
        let random = (0..<200).map { _ in (Int.random(in: -1_000_000...1_000_000, using: &g), Int.random(in: 1...1000, using: &g)) }
        let answers = random.map { floorDivide($0.0, $0.1) }
        observe("floorDivide of 200 seeded pairs", answers)
        let wrong = zip(random, answers).first { pair, q in !(q * pair.1 <= pair.0 && pair.0 < (q + 1) * pair.1) }
        #expect(wrong == nil, "floorDivide\(wrong.map { "(\($0.0.0), \($0.0.1)) = \($0.1)" } ?? ""): not the floor")
    }

    @Test func theEdgesOfInt() {
        let cases = [(Int.min, 1), (Int.min, 2), (Int.min, 7), (Int.min + 1, 2), (Int.max, 1), (Int.max, 3), (-1, Int.max), (Int.min, Int.max)]
        let answers = cases.map { floorDivide($0.0, $0.1) }
        let expected = cases.map { a, b in a / b - ((a % b) < 0 ? 1 : 0) }
        observe("floorDivide at the edges of Int", answers)
        var g = SeededGenerator(seed: graded(112))
        let near = (0..<20).map { _ in (Int.min + Int.random(in: 0...1000, using: &g), Int.random(in: 2...50, using: &g)) }
        observe("floorDivide just above Int.min, seeded", near.map { floorDivide($0.0, $0.1) })
        #expect(answers == expected, "floorDivide at Int.min and Int.max: expected \(expected), got \(answers)")
    }

    @Test func outputSizesThatDoNotFit() {
        var g = SeededGenerator(seed: graded(113))
        var sizes: [Int] = []
        for _ in 0..<300 {
            let n = Int.random(in: 1...6, using: &g), k = Int.random(in: 1...9, using: &g)
            let s = Int.random(in: 1...4, using: &g), p = Int.random(in: 0...2, using: &g)
            let size = convOutputSize(n, kernel: k, stride: s, padding: p)
            let fits = n + 2 * p >= k
            #expect(fits ? size == (n + 2 * p - k) / s + 1 : size <= 0, "input \(n), kernel \(k), stride \(s), padding \(p): got \(size)")
            sizes.append(max(size, 0))
        }
        observe("convOutputSize (clipped at 0) of 300 seeded cases", sizes)
    }
}

// MARK: - 11.2

@Suite struct Exercise_11_2 {
    @Test func randomShapesIncludingKernelsWiderThanTheImage() {
        var g = SeededGenerator(seed: graded(121))
        for _ in 0..<12 {
            let c = ConvCase.random(&g)
            let x = smallIntegers(c.shape.reduce(1, *), &g), w = smallIntegers(c.wShape.reduce(1, *), &g)
            let b = smallIntegers(c.wShape[0], &g)
            let expected = definitionConv(x, c.shape, w, c.wShape, bias: b, stride: c.stride, padding: c.padding)
            let y = Tensor(x, shape: c.shape).conv2dByLoops(Tensor(w, shape: c.wShape), bias: Tensor(b), stride: c.stride, padding: c.padding)
            observe("conv2dByLoops on \(c)", y, atol: 1e-4, rtol: 0)
            #expect(y.shape == expected.shape && y.toArray() == expected.values, "\(c): expected \(expected.values), got \(y.toArray())")
        }
    }

    @Test func aBatchOfOneOneChannelNoBias() {
        var g = SeededGenerator(seed: graded(122))
        let h = Int.random(in: 3...6, using: &g), w = Int.random(in: 3...6, using: &g)
        let x = smallIntegers(h * w, &g), k = smallIntegers(6, &g)
        let expected = definitionConv(x, [1, 1, h, w], k, [1, 1, 2, 3], bias: nil, stride: 1, padding: 0)
        let y = Tensor(x, shape: [1, 1, h, w]).conv2dByLoops(Tensor(k, shape: [1, 1, 2, 3]))
        observe("conv2dByLoops of one \(h)×\(w) image with a 2×3 kernel", y, atol: 1e-4, rtol: 0)
        #expect(y.toArray() == expected.values, "expected \(expected.values), got \(y.toArray())")
    }

    @Test func aChannelsLastView() {
        var g = SeededGenerator(seed: graded(123))
        let shape = [2, 3, 5, 4]
        let x = smallIntegers(shape.reduce(1, *), &g), w = smallIntegers(2 * 3 * 3 * 3, &g)
        let view = channelsLastView(x, shape)
        let expected = definitionConv(x, shape, w, [2, 3, 3, 3], bias: nil, stride: 2, padding: 1)
        let y = view.conv2dByLoops(Tensor(w, shape: [2, 3, 3, 3]), stride: 2, padding: 1)
        observe("conv2dByLoops on a channels-last view", y, atol: 1e-4, rtol: 0)
        #expect(y.toArray() == expected.values, "a non-contiguous input: expected \(expected.values), got \(y.toArray())")
    }
}

// MARK: - 11.3

@Suite struct Exercise_11_3 {
    @Test func everySmallCaseAgainstCounting() {
        var ranges: [Int] = []
        for input in 1...7 { for stride in 1...4 { for padding in 0...4 { for tap in 0...8 { for outputs in [1, 3, 6] {
            let range = validOutputs(tap: tap, input: input, outputs: outputs, stride: stride, padding: padding)
            let inside = (0..<outputs).filter { (0..<input).contains($0 * stride - padding + tap) }
            #expect(Array(range) == inside, "input \(input), outputs \(outputs), stride \(stride), padding \(padding), tap \(tap): expected \(inside), got \(range)")
            ranges += [range.count, range.isEmpty ? 0 : range.lowerBound]
        }}}}}
        observe("validOutputs (count, first) of every small case", ranges)
        var g = SeededGenerator(seed: graded(131))
        var seeded: [Int] = []
        for _ in 0..<200 {
            let input = Int.random(in: 1...40, using: &g), stride = Int.random(in: 1...6, using: &g)
            let padding = Int.random(in: 0...10, using: &g), tap = Int.random(in: 0...30, using: &g), outputs = Int.random(in: 1...20, using: &g)
            let range = validOutputs(tap: tap, input: input, outputs: outputs, stride: stride, padding: padding)
            seeded += [range.count, range.isEmpty ? 0 : range.lowerBound]
        }
        observe("validOutputs (count, first) of 200 seeded cases", seeded)
    }
}

// MARK: - 11.4

@Suite struct Exercise_11_4 {
    @Test func im2colWithDilationAndEdges() {
        var g = SeededGenerator(seed: graded(141))
        for _ in 0..<10 {
            let c = ConvCase.random(&g, dilation: true)
            let x = smallIntegers(c.shape.reduce(1, *), &g)
            let kernel = (c.wShape[2], c.wShape[3])
            let cols = Tensor(x, shape: c.shape).im2col(kernelSize: kernel, stride: c.stride, padding: c.padding, dilation: c.dilation)
            observe("im2col on \(c)", cols)
            // Each column times a one-hot filter picks one tap: compare with the definition through a 1-filter conv.
            let rows = cols.shape[0], columns = cols.shape[1], values = cols.toArray()
            #expect(!values.contains { $0.isNaN }, "\(c): some entries of the column matrix were never written")
            for r in 0..<rows {
                var onehot = [Float](repeating: 0, count: rows)
                onehot[r] = 1
                let picked = definitionConv(x, c.shape, onehot, [1, c.shape[1], kernel.0, kernel.1], bias: nil,
                                            stride: c.stride, padding: c.padding, dilation: c.dilation).values
                let row = Array(values[r * columns ..< (r + 1) * columns])
                if row != picked {
                    Issue.record("\(c): row \(r) of the column matrix is \(row), expected \(picked)")
                    break
                }
            }
        }
    }

    @Test func conv2dOnAChannelsLastBatchOfOne() {
        var g = SeededGenerator(seed: graded(142))
        let shape = [1, 4, 6, 5], wShape = [3, 4, 3, 2]
        let x = smallIntegers(shape.reduce(1, *), &g), w = smallIntegers(wShape.reduce(1, *), &g), b = smallIntegers(3, &g)
        let y = channelsLastView(x, shape).conv2d(Tensor(w, shape: wShape), bias: Tensor(b), stride: 2, padding: 2)
        let expected = definitionConv(x, shape, w, wShape, bias: b, stride: 2, padding: 2)
        observe("conv2d of a channels-last view, batch 1, stride 2, padding 2, a 3×2 kernel", y, atol: 1e-4, rtol: 0)
        #expect(y.toArray() == expected.values, "expected \(expected.values), got \(y.toArray())")
    }

    @Test func groupsAndDepthwise() {
        var g = SeededGenerator(seed: graded(143))
        for depthwise in [false, true] {
            let c = 4, o = depthwise ? 4 : 6, groups = depthwise ? 4 : 2
            let shape = [2, c, 5, 6], wShape = [o, c / groups, 3, 3]
            let x = smallIntegers(shape.reduce(1, *), &g), w = smallIntegers(wShape.reduce(1, *), &g)
            let y = Tensor(x, shape: shape).conv2d(Tensor(w, shape: wShape), padding: 1, groups: groups)
            let expected = definitionConv(x, shape, w, wShape, bias: nil, stride: 1, padding: 1, groups: groups)
            observe("conv2d with \(groups) groups", y, atol: 1e-4, rtol: 0)
            #expect(y.toArray() == expected.values, "\(groups) groups: expected \(expected.values), got \(y.toArray())")
        }
    }
}

// MARK: - 11.5

@Suite struct Exercise_11_5 {
    @Test func col2imAgainstTheDefinitionsAdjoint() {
        var g = SeededGenerator(seed: graded(151))
        for _ in 0..<10 {
            let c = ConvCase.random(&g, dilation: true)
            let kernel = (c.wShape[2], c.wShape[3])
            let probe = Tensor.zeros(c.shape).im2col(kernelSize: kernel, stride: c.stride, padding: c.padding, dilation: c.dilation)
            let y = smallIntegers(probe.count, &g)
            let image = Tensor(y, shape: probe.shape).col2im(imageShape: c.shape, kernelSize: kernel, stride: c.stride,
                                                             padding: c.padding, dilation: c.dilation)
            // The definition: entry (r, col) goes to the pixel tap r of window col reads, if any.
            let (ch, h, w) = (c.shape[1], c.shape[2], c.shape[3]), columns = probe.shape[1]
            let oh = convOutputSize(h, kernel: kernel.0, stride: c.stride, padding: c.padding, dilation: c.dilation)
            let ow = convOutputSize(w, kernel: kernel.1, stride: c.stride, padding: c.padding, dilation: c.dilation)
            var expected = [Float](repeating: 0, count: c.shape.reduce(1, *))
            for r in 0..<probe.shape[0] { for col in 0..<columns {
                let (cc, i, j) = (r / (kernel.0 * kernel.1), (r / kernel.1) % kernel.0, r % kernel.1)
                let (n, oy, ox) = (col / (oh * ow), (col / ow) % oh, col % ow)
                let iy = oy * c.stride - c.padding + i * c.dilation, ix = ox * c.stride - c.padding + j * c.dilation
                if iy >= 0 && iy < h && ix >= 0 && ix < w { expected[((n * ch + cc) * h + iy) * w + ix] += y[r * columns + col] }
            }}
            observe("col2im on \(c)", image, atol: 1e-4, rtol: 0)
            #expect(image.toArray() == expected, "\(c): expected \(expected), got \(image.toArray())")
        }
    }

    @Test func conv2dGradientsOnEdgeShapes() {
        var g = SeededGenerator(seed: graded(152))
        for _ in 0..<6 {
            let c = ConvCase.random(&g, dilation: true, groups: true)
            let x = Tensor(smallIntegers(c.shape.reduce(1, *), &g), shape: c.shape, requiresGrad: true)
            let w = Tensor(smallIntegers(c.wShape.reduce(1, *), &g), shape: c.wShape, requiresGrad: true)
            let y = x.conv2d(w, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
            let upstream = Tensor(smallIntegers(y.count, &g), shape: y.shape)
            (y * upstream).sum().backward()
            // dx by the definition: every (output, tap) pair adds upstream·weight to the pixel it read.
            let xs = x.toArray(), ws = w.toArray(), us = upstream.toArray()
            _ = xs
            let (n, ch, h, wd) = (c.shape[0], c.shape[1], c.shape[2], c.shape[3])
            let (o, cg, kh, kw) = (c.wShape[0], c.wShape[1], c.wShape[2], c.wShape[3])
            let (oh, ow) = (y.shape[2], y.shape[3])
            var dx = [Float](repeating: 0, count: xs.count)
            for b in 0..<n { for f in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
                let group = f / (o / c.groups)
                for k in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                    let iy = oy * c.stride - c.padding + i * c.dilation, ix = ox * c.stride - c.padding + j * c.dilation
                    if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                        dx[((b * ch + group * cg + k) * h + iy) * wd + ix] += us[((b * o + f) * oh + oy) * ow + ox] * ws[((f * cg + k) * kh + i) * kw + j]
                    }
                }}}
            }}}}
            observe("conv2d's input gradient on \(c)", x.grad, atol: 1e-3, rtol: 0)
            observe("conv2d's weight gradient on \(c)", w.grad, atol: 1e-3, rtol: 0)
            #expect(x.grad?.toArray() == dx, "\(c): the input gradient should be \(dx), got \(x.grad?.toArray() ?? [])")
        }
    }
}

// MARK: - 11.6

@Suite struct Exercise_11_6 {
    @Test func tiesNaNsAndRectangles() {
        var g = SeededGenerator(seed: graded(161))
        for _ in 0..<8 {
            let k = Int.random(in: 1...4, using: &g), s = Int.random(in: 1...5, using: &g)
            let h = Int.random(in: k...9, using: &g), w = Int.random(in: k...9, using: &g)
            let shape = [Int.random(in: 1...2, using: &g), Int.random(in: 1...3, using: &g), h, w]
            var values = (0..<shape.reduce(1, *)).map { _ in Float(Int.random(in: 0...3, using: &g)) }  // many ties
            for _ in 0..<2 { values[Int.random(in: 0..<values.count, using: &g)] = .nan }
            let x = Tensor(values, shape: shape)
            if k == 2 && s == 2 { continue }  // the fast path, not the exercise
            let y = x.maxPool2d(kernelSize: k, stride: s), positions = x.maxPool2dIndices(kernelSize: k, stride: s)
            // The definition: scan in reading order; strictly greater or a first NaN wins.
            let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1)
            var expected: [Int] = []
            for plane in 0..<(shape[0] * shape[1]) { for oy in 0..<oh { for ox in 0..<ow {
                var best = plane * h * w + oy * s * w + ox * s
                for i in 0..<k { for j in 0..<k {
                    let at = plane * h * w + (oy * s + i) * w + ox * s + j
                    if values[at] > values[best] || (values[at].isNaN && !values[best].isNaN) { best = at }
                }}
                expected.append(best)
            }}}
            observe("max pooling's positions, kernel \(k), stride \(s), input \(shape)", positions)
            observe("max pooling's values, kernel \(k), stride \(s), input \(shape)", y)
            #expect(positions == expected, "kernel \(k), stride \(s), input \(shape): positions \(positions), expected \(expected)")
        }
    }

    @Test func aStrideLargerThanTheKernelOnAChannelsLastView() {
        var g = SeededGenerator(seed: graded(162))
        let shape = [2, 2, 8, 7]
        let values = (0..<shape.reduce(1, *)).map { _ in Float(Int.random(in: -20...20, using: &g)) }
        let y = channelsLastView(values, shape).maxPool2d(kernelSize: 2, stride: 3)
        var expected: [Float] = []
        for plane in 0..<4 { for oy in 0..<3 { for ox in 0..<2 {
            let at = { (i: Int, j: Int) in values[plane * 56 + (oy * 3 + i) * 7 + ox * 3 + j] }
            expected.append(max(max(at(0, 0), at(0, 1)), max(at(1, 0), at(1, 1))))
        }}}
        observe("max pooling 2×2, stride 3, of a channels-last view", y)
        #expect(y.toArray() == expected, "expected \(expected), got \(y.toArray())")
    }
}

// MARK: - 11.7

@Suite struct Exercise_11_7 {
    @Test func overlappingWindowsOnSeededInputs() {
        var g = SeededGenerator(seed: graded(171))
        for (k, s) in [(3, 1), (3, 2), (2, 1), (4, 3)] {
            let shape = [2, 2, 7, 6]
            let values = (0..<shape.reduce(1, *)).map { _ in Float(Int.random(in: 0...4, using: &g)) }
            let x = Tensor(values, shape: shape, requiresGrad: true)
            let y = x.maxPool2d(kernelSize: k, stride: s)
            let upstream = Tensor((0..<y.count).map { _ in Float(Int.random(in: 1...5, using: &g)) }, shape: y.shape)
            (y * upstream).sum().backward()
            var expected = [Float](repeating: 0, count: x.count)
            for (o, at) in x.maxPool2dIndices(kernelSize: k, stride: s).enumerated() { expected[at] += upstream.toArray()[o] }
            observe("max pooling's input gradient, kernel \(k), stride \(s)", x.grad)
            #expect(x.grad?.toArray() == expected, "kernel \(k), stride \(s): each window's gradient added at its argmax")
        }
    }

    @Test func throughTwoPoolingsInARow() {
        var g = SeededGenerator(seed: graded(172))
        let x = Tensor((0..<(1 * 1 * 9 * 9)).map { _ in g.nextNormal() }, shape: [1, 1, 9, 9], requiresGrad: true)
        let y = x.maxPool2d(kernelSize: 3, stride: 1).maxPool2d(kernelSize: 3, stride: 2)
        y.sum().backward()
        let grad = x.grad?.toArray() ?? []
        observe("the gradient through two overlapping max poolings", x.grad)
        #expect(grad.reduce(0, +) == Float(y.count), "every output sends exactly 1 back: the gradient should sum to \(y.count), got \(grad.reduce(0, +))")
    }
}

// MARK: - 11.8

@Suite struct Exercise_11_8 {
    /// The receptive field by brute force: the input pixels (along one axis) that can reach output 0.
    private func bruteForce(_ windows: [Window]) -> Int {
        var reach: Set<Int> = [0]  // positions, in the current layer's input, that output 0 depends on
        for window in windows.reversed() {
            var below: Set<Int> = []
            for p in reach { for t in 0..<window.kernel { below.insert(p * window.stride + t * window.dilation) } }
            reach = below
        }
        return (reach.max() ?? 0) - (reach.min() ?? 0) + 1
    }

    @Test func randomStacksAgainstBruteForce() {
        var g = SeededGenerator(seed: graded(181))
        var answers: [Int] = []
        for _ in 0..<40 {
            let windows = (0..<Int.random(in: 0...6, using: &g)).map { _ in
                Window(kernel: Int.random(in: 1...5, using: &g), stride: Int.random(in: 1...3, using: &g), dilation: Int.random(in: 1...3, using: &g))
            }
            let field = receptiveField(windows)
            let jump = windows.map(\.stride).reduce(1, *)
            #expect(field.size == bruteForce(windows) && field.jump == jump,
                    "\(windows.map { "k\($0.kernel) s\($0.stride) d\($0.dilation)" }): expected (\(bruteForce(windows)), \(jump)), got \(field)")
            answers += [field.size, field.jump]
        }
        observe("receptive fields (size, jump) of 40 seeded stacks", answers)
    }

    @Test func aModelWithNestedSequentials() {
        var g = SeededGenerator(seed: graded(182))
        let k = Int.random(in: 2...5, using: &g), d = Int.random(in: 1...2, using: &g)
        let model = Sequential(Sequential(Conv2d(1, 2, kernelSize: k, dilation: d), ReLU()), AvgPool2d(2),
                               Sequential(Conv2d(2, 2, kernelSize: 3, stride: 2), MaxPool2d(3, stride: 1)))
        let field = receptiveField(windows(of: model))
        observe("the receptive field of a nested model (size, jump)", [field.size, field.jump])
        let expected = 1 + (k - 1) * d + 1 + 2 * 2 + 2 * 4
        #expect(field == (expected, 4), "expected (\(expected), 4), got \(field)")
    }
}
