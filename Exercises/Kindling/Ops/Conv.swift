// Convolution and pooling for images laid out NCHW: [batch, channels, height, width].
//
// conv2d by im2col (lesson 11): copy every receptive field (a C×KH×KW patch)
// into one column of a matrix, and the whole convolution becomes ONE matrix
// product with the weights — which BLAS does fast.
//
//     cols   [C·KH·KW, N·OH·OW]   every patch, one per column
//     weight [O, C·KH·KW]         every filter, one per row
//     out    = weight × cols  →  [O, N·OH·OW]  →  rearranged to [N, O, OH, OW]
//
// Backward is three products (for the weight, the columns and the bias) and
// im2col's adjoint, col2im, which *adds* each column back into the patch it
// came from.

/// ⌊a / b⌋ for b > 0. Swift's `/` rounds toward zero, which is the floor
/// only when a ≥ 0: −1 / 2 is 0, but ⌊−1/2⌋ = −1. Window arithmetic meets
/// negative numerators whenever a kernel hangs over an edge, and there the
/// difference is one window too many — one that reads (and, in col2im,
/// writes) outside the image.
@inline(__always)
public func floorDivide(_ a: Int, _ b: Int) -> Int {
    // BEGIN EXERCISE 11.1 — floor division, not truncation (Lessons/11-convolution.md)
    fatalError("Exercise 11.1 is not done yet: floor division, not truncation — see Lessons/11-convolution.md")
    // END EXERCISE 11.1
}

/// ⌈a / b⌉ for b > 0.
@inline(__always)
public func ceilDivide(_ a: Int, _ b: Int) -> Int { -floorDivide(-a, b) }

/// The output size of a convolution or pooling window along one axis:
/// ⌊(input + 2·padding − span) / stride⌋ + 1, where a kernel dilated by d
/// spans d·(kernel − 1) + 1 inputs. It is ≤ 0 when the kernel does not fit
/// the padded input.
public func convOutputSize(_ input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1) -> Int {
    floorDivide(input + 2 * padding - (dilation * (kernel - 1) + 1), stride) + 1
}

/// Where a convolution's windows fall, computed once and shared by im2col and col2im.
struct ConvGeometry {
    let n, c, h, w, kh, kw, stride, padding, dilation, oh, ow: Int
    var patch: Int { c * kh * kw }        // rows of cols
    var columns: Int { n * oh * ow }      // columns of cols
    /// The same convolution of one image.
    var oneImage: ConvGeometry {
        ConvGeometry(n: 1, c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, dilation: dilation,
                     oh: oh, ow: ow)
    }
}

/// The output columns `ox` whose input column `ox·stride − padding + j·dilation`
/// lies inside an image of width `w`: everything outside reads padding (zeros).
@inline(__always)
func validColumns(_ j: Int, _ g: ConvGeometry) -> Range<Int> {
    validOutputs(tap: j * g.dilation, input: g.w, outputs: g.ow, stride: g.stride, padding: g.padding)
}

/// Along one axis: the outputs `o` in `0..<outputs` whose window's tap at
/// offset `tap` reads a real input, `0 ≤ o·stride − padding + tap < input`
/// (the others read padding). An empty range when there are none.
public func validOutputs(tap: Int, input: Int, outputs: Int, stride: Int, padding: Int) -> Range<Int> {
    // BEGIN EXERCISE 11.3 — which windows see real pixels (Lessons/11-convolution.md)
    fatalError("Exercise 11.3 is not done yet: which windows see real pixels — see Lessons/11-convolution.md")
    // END EXERCISE 11.3
}

/// Copies every receptive field of contiguous `x` into the columns of `cols`
/// ([C·KH·KW, N·OH·OW], zero where a window hangs over the padding).
/// Rows of `cols` are independent, so they are filled in parallel.
func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into cols: UnsafeMutablePointer<Float>) {
    let plane = g.oh * g.ow
    parallelChunks(g.patch, minimumWork: g.patch * g.columns) { rows in
        // BEGIN EXERCISE 11.4 — im2col: one row of the column matrix (Lessons/11-convolution.md)
        _ = plane; fatalError("Exercise 11.4 is not done yet: im2col: one row of the column matrix — see Lessons/11-convolution.md")
        // END EXERCISE 11.4
    }
}

/// The adjoint of `im2col`: adds each column of `cols` back into the image
/// positions it was copied from (overlapping windows add up). Images of
/// different batch entries do not overlap, so the batch is split across cores.
func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, into x: UnsafeMutablePointer<Float>) {
    let plane = g.oh * g.ow
    parallelChunks(g.n, minimumWork: g.patch * g.columns) { batch in
        // BEGIN EXERCISE 11.5 — col2im: add one row of columns back into the images (Lessons/11-convolution.md)
        _ = plane; fatalError("Exercise 11.5 is not done yet: col2im: add one row of columns back into the images — see Lessons/11-convolution.md")
        // END EXERCISE 11.5
    }
}

extension Tensor {
    /// 2-D convolution (really cross-correlation, as in PyTorch) of an NCHW
    /// input with `weight` of shape [outChannels, inChannels / groups, KH, KW],
    /// plus an optional `bias` of shape [outChannels].
    ///
    /// `dilation` spreads the kernel's taps `dilation` inputs apart. With
    /// `groups` > 1 the channels split into that many groups, each convolved
    /// with its own filters only (`groups` = channels is depthwise).
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups, caller: "conv2d")
    }

    /// Checks a convolution's arguments, its messages naming `caller` (an op
    /// or a layer such as "Conv2d(3, 16, kernelSize: 3)"), and says where its
    /// windows fall.
    func convGeometry(_ weight: Tensor, bias: Tensor?, stride: Int, padding: Int, dilation: Int, groups: Int,
                      caller: String) -> ConvGeometry {
        require(rank == 4 && weight.rank == 4,
                "\(caller): input \(shape) must be [N, C, H, W] and weight \(weight.shape) [O, C, KH, KW]")
        require(groups >= 1 && shape[1] % groups == 0 && weight.shape[0] % groups == 0,
                "\(caller): \(groups) groups must divide the input's \(shape[1]) channels and the weight's \(weight.shape[0]) filters")
        require(shape[1] == weight.shape[1] * groups,
                "\(caller): input \(shape) has \(shape[1]) channels but weight \(weight.shape) expects \(weight.shape[1] * groups)"
                + (groups > 1 ? " (\(weight.shape[1]) per group × \(groups) groups)" : ""))
        require(stride >= 1 && padding >= 0 && dilation >= 1,
                "\(caller): stride \(stride) and dilation \(dilation) must be ≥ 1 and padding \(padding) ≥ 0")
        if let bias {
            require(bias.shape == [weight.shape[0]], "\(caller): bias \(bias.shape) must be [\(weight.shape[0])] for weight \(weight.shape)")
        }
        let g = ConvGeometry(n: shape[0], c: shape[1], h: shape[2], w: shape[3], kh: weight.shape[2], kw: weight.shape[3],
                             stride: stride, padding: padding, dilation: dilation,
                             oh: convOutputSize(shape[2], kernel: weight.shape[2], stride: stride, padding: padding, dilation: dilation),
                             ow: convOutputSize(shape[3], kernel: weight.shape[3], stride: stride, padding: padding, dilation: dilation))
        require(g.oh > 0 && g.ow > 0,
                "\(caller): kernel \(weight.shape) does not fit input \(shape) with padding \(padding)"
                + (dilation > 1 ? " and dilation \(dilation)" : ""))
        return g
    }

    /// `conv2d`, its messages naming `caller`.
    func conv2d(_ weight: Tensor, bias: Tensor?, stride: Int, padding: Int, dilation: Int, groups: Int,
                caller: String) -> Tensor {
        let g = convGeometry(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                             caller: caller)
        let o = weight.shape[0]
        // Per group: og filters, each over pg = (C / groups)·KH·KW rows of cols.
        let og = o / groups, pg = g.patch / groups
        let x = contiguous().detach(), wt = weight.contiguous().detach()
        let b = bias?.contiguous().detach()
        let plane = g.oh * g.ow, image = g.c * g.h * g.w
        let one = g.oneImage

        // The lesson's single product [O, CKK] × [CKK, N·L], done image by
        // image (as Caffe does): for each image n,
        //   1. every receptive field into a column of cols[n] ([C·KH·KW, L]);
        //   2. one product per group straight into out[n]:
        //      [O/G, CKK/G] × [CKK/G, L] = [O/G, L] — already the [N, O, L]
        //      layout, so nothing is rearranged;
        //   3. the bias added to each filter's row.
        // Each core takes its own images: an image's columns (a few hundred
        // KB) are still in cache when the product reads them. The columns of
        // every image are kept for the weight's gradient.
        let cols = Storage(uninitializedCount: g.patch * g.columns)
        let out = Tensor(storage: Storage(uninitializedCount: g.n * o * plane), shape: [g.n, o, g.oh, g.ow])
        // (Raw pointers do not keep their owners alive: `withExtendedLifetime`
        // holds each buffer until the last read through its pointer.)
        withExtendedLifetime((x, wt, b, cols)) {
            let w = wt.storage.base + wt.offset
            parallelChunks(g.n, minimumWork: g.patch * g.columns * og) { images in
                for n in images {
                    let columns = cols.base + n * g.patch * plane, y = out.storage.base + n * o * plane
                    Kindling.im2col(x.storage.base + x.offset + n * image, one, into: columns)
                    for group in 0..<groups {
                        gemm(w + group * og * pg, pg, 1, columns + group * pg * plane, plane, 1,
                             y + group * og * plane, m: og, n: plane, k: pg)
                    }
                    if let b {
                        for f in 0..<o {
                            let shift = b.storage.base[b.offset + f], row = y + f * plane
                            for l in 0..<plane { row[l] += shift }
                        }
                    }
                }
            }
        }

        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.record(out, op: "conv2d", inputs: inputs) { [input = self] gradOut in
            // Image n's output gradient is the [O, L] matrix G[n] at go + n·O·L.
            let go = gradOut.contiguous()
            let dx = input.requiresGrad ? Tensor.zeros([g.n, g.c, g.h, g.w]) : nil
            // dWeight = Σₙ G[n] × cols[n]ᵀ: each core adds its images' products
            // into a buffer of its own; the buffers are added at the end.
            let workers = Swift.min(activeProcessorCount, 8, g.n), perWorker = (g.n + workers - 1) / workers
            let partial = Storage(repeating: 0, count: workers * o * pg)
            withExtendedLifetime((go, wt, cols, partial, dx)) {
                let dy = go.storage.base + go.offset, w = wt.storage.base + wt.offset
                parallelChunks(workers, minimumWork: g.patch * g.columns * og) { chunk in
                    // dCols of one image, reused for each of this core's images.
                    let dcols = dx == nil ? nil : Storage(uninitializedCount: g.patch * plane)
                    for worker in chunk {
                        let sum = partial.base + worker * o * pg
                        for n in worker * perWorker..<Swift.min(g.n, (worker + 1) * perWorker) {
                            let gradient = dy + n * o * plane, columns = cols.base + n * g.patch * plane
                            for group in 0..<groups {
                                gemm(gradient + group * og * plane, plane, 1, columns + group * pg * plane, 1, plane,
                                     sum + group * og * pg, m: og, n: pg, k: plane, accumulate: true)
                            }
                            // dInput[n] = col2im(Wᵀ × G[n])
                            if let dx, let dcols {
                                for group in 0..<groups {
                                    gemm(w + group * og * pg, 1, pg, gradient + group * og * plane, plane, 1,
                                         dcols.base + group * pg * plane, m: pg, n: plane, k: og)
                                }
                                Kindling.col2im(dcols.base, one, into: dx.storage.base + n * image)
                            }
                        }
                    }
                    withExtendedLifetime(dcols) {}
                }
            }
            let dw = Tensor(storage: Storage(repeating: 0, count: o * pg), shape: weight.shape)
            for worker in 0..<workers {
                let sum = partial.base + worker * o * pg
                for e in 0..<o * pg { dw.storage.base[e] += sum[e] }
            }
            var grads: [Tensor?] = [dx, dw]
            // dBias = G summed over the images and positions.
            if bias != nil {
                let db = Tensor.zeros([o])
                withExtendedLifetime(go) {
                    for n in 0..<g.n {
                        for f in 0..<o {
                            db.storage.base[f] += sumContiguous(go.storage.base + go.offset + (n * o + f) * plane, plane)
                        }
                    }
                }
                grads.append(db)
            }
            withExtendedLifetime(partial) {}
            return grads
        }
    }

    /// im2col as a tensor: every `kernelSize` window of this [N, C, H, W]
    /// input as a column of a [C·KH·KW, N·OH·OW] matrix (`conv2d`'s first
    /// step, which `torch.nn.functional.unfold` lays out as [N, C·KH·KW, OH·OW]).
    /// The matrix starts out as NaN, so an entry im2col forgets to write shows.
    public func im2col(kernelSize: (Int, Int), stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        let g = windowGeometry(kernelSize, stride: stride, padding: padding, dilation: dilation, caller: "im2col")
        let cols = Tensor(storage: Storage(repeating: .nan, count: g.patch * g.columns), shape: [g.patch, g.columns])
        let x = contiguous()
        withExtendedLifetime(x) { Kindling.im2col(x.storage.base + x.offset, g, into: cols.storage.base) }
        return cols
    }

    /// col2im as a tensor: this [C·KH·KW, N·OH·OW] matrix added back into a
    /// zero image of `imageShape` [N, C, H, W] (the adjoint of `im2col`, as
    /// `torch.nn.functional.fold`).
    public func col2im(imageShape: [Int], kernelSize: (Int, Int), stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1) -> Tensor {
        let image = Tensor.zeros(imageShape)
        let g = image.windowGeometry(kernelSize, stride: stride, padding: padding, dilation: dilation, caller: "col2im")
        require(shape == [g.patch, g.columns],
                "col2im: columns \(shape) must be [\(g.patch), \(g.columns)] for images \(imageShape) and kernel \(kernelSize)")
        let cols = contiguous()
        withExtendedLifetime(cols) { Kindling.col2im(cols.storage.base + cols.offset, g, into: image.storage.base) }
        return image
    }

    /// The geometry of `kernelSize` windows over this [N, C, H, W] input.
    func windowGeometry(_ kernelSize: (Int, Int), stride: Int, padding: Int, dilation: Int, caller: String) -> ConvGeometry {
        require(rank == 4, "\(caller): input \(shape) must be [N, C, H, W]")
        let weightShape = [1, shape[1], kernelSize.0, kernelSize.1]
        return convGeometry(Tensor.zeros(weightShape), bias: nil, stride: stride, padding: padding, dilation: dilation,
                            groups: 1, caller: caller)
    }

    /// The READABLE convolution: the sliding window written as loops, exactly
    /// as the definition reads —
    ///
    ///     out[n, f, oy, ox] = bias[f] + Σ_c Σ_i Σ_j x[n, c, oy·s − p + i, ox·s − p + j] · weight[f, c, i, j]
    ///
    /// where a position outside the image reads 0 (the padding). Forward
    /// only, no graph, one group, no dilation: the reference `conv2d` (im2col
    /// and one matrix product) is checked against it.
    public func conv2dByLoops(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        let g = convGeometry(weight, bias: bias, stride: stride, padding: padding, dilation: 1, groups: 1,
                             caller: "conv2dByLoops")
        // BEGIN EXERCISE 11.2 — the sliding window, by loops (Lessons/11-convolution.md)
        _ = g; fatalError("Exercise 11.2 is not done yet: the sliding window, by loops — see Lessons/11-convolution.md")
        // END EXERCISE 11.2
    }

    /// The flat input index (into the whole [N, C, H, W] input, row-major) of
    /// each output's maximum, in the output's order: what `maxPool2d`'s
    /// backward routes gradients to (PyTorch's `return_indices=True` gives the
    /// index within each plane instead).
    public func maxPool2dIndices(kernelSize: Int, stride: Int? = nil) -> [Int] {
        maxPoolForward(kernelSize: kernelSize, stride: stride).argmax.map(Int.init)
    }

    /// Max pooling's values and, for each, the flat input position of its maximum.
    func maxPoolForward(kernelSize: Int, stride: Int?) -> (out: Tensor, argmax: [Int32]) {
        let s = stride ?? kernelSize
        require(rank == 4, "maxPool2d: input \(shape) must be [N, C, H, W]")
        require(kernelSize >= 1 && s >= 1, "maxPool2d: kernel \(kernelSize) and stride \(s) must be ≥ 1")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = convOutputSize(h, kernel: kernelSize, stride: s, padding: 0)
        let ow = convOutputSize(w, kernel: kernelSize, stride: s, padding: 0)
        require(oh > 0 && ow > 0, "maxPool2d: kernel \(kernelSize) does not fit input \(shape)")
        let x = contiguous().detach()
        let out = Tensor(storage: Storage(uninitializedCount: n * c * oh * ow), shape: [n, c, oh, ow])
        // For each output, the flat input position of its window's maximum.
        let argmax = [Int32](unsafeUninitializedCapacity: out.count) { positions, initialized in
            let src = x.storage.base + x.offset, dst = out.storage.base
            if kernelSize == 2 && s == 2 {
                maxPool2x2(src, planes: n * c, h: h, w: w, into: dst, positions: positions.baseAddress!)
            } else {
                maxPoolWindows(src, planes: n * c, h: h, w: w, kernel: kernelSize, stride: s,
                               into: dst, positions: positions.baseAddress!)
            }
            initialized = out.count
        }
        withExtendedLifetime(x) {}  // `src` pointed into x's storage
        return (out, argmax)
    }

    /// 2-D max pooling over `kernelSize`×`kernelSize` windows moved by `stride`
    /// (default: the kernel size, so windows do not overlap). The gradient goes
    /// to the position of each window's maximum.
    public func maxPool2d(kernelSize: Int, stride: Int? = nil) -> Tensor {
        let (out, argmax) = maxPoolForward(kernelSize: kernelSize, stride: stride)
        let original = shape
        return Tensor.record(out, op: "maxPool2d", inputs: [self]) { g in
            let dx = Tensor.zeros(original)
            let gc = g.contiguous()
            withExtendedLifetime(gc) {
                maxPoolBackward(gc.storage.base + gc.offset, positions: argmax, into: dx.storage.base)
            }
            return [dx]
        }
    }
}

/// The READABLE path of max pooling: scan every window, keep the largest value
/// and where it was (the first one wins ties; NaN wins over everything).
func maxPoolWindows(_ src: UnsafePointer<Float>, planes: Int, h: Int, w: Int, kernel: Int, stride: Int,
                    into dst: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>) {
    let oh = convOutputSize(h, kernel: kernel, stride: stride, padding: 0)
    let ow = convOutputSize(w, kernel: kernel, stride: stride, padding: 0)
    // BEGIN EXERCISE 11.6 — max pooling: each window's largest value and where it was (Lessons/11-convolution.md)
    _ = (oh, ow); fatalError("Exercise 11.6 is not done yet: max pooling: each window's largest value and where it was — see Lessons/11-convolution.md")
    // END EXERCISE 11.6
}

/// Max pooling's backward rule: output k's gradient goes to the input
/// position `positions[k]` its maximum came from (added: with overlapping
/// windows, one input can be the maximum of several).
func maxPoolBackward(_ gradOut: UnsafePointer<Float>, positions: [Int32], into gradIn: UnsafeMutablePointer<Float>) {
    // BEGIN EXERCISE 11.7 — max pooling's backward: route each gradient to its argmax (Lessons/11-convolution.md)
    fatalError("Exercise 11.7 is not done yet: max pooling's backward: route each gradient to its argmax — see Lessons/11-convolution.md")
    // END EXERCISE 11.7
}

/// The FAST path for the most common pooling, 2×2 windows with stride 2: the
/// four candidates compared without loops or branches (a two-iteration loop
/// and a data-dependent branch cost more than the comparisons themselves).
func maxPool2x2(_ src: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                into dst: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Int32>) {
    let oh = h / 2, ow = w / 2
    for plane in 0..<planes {
        let image = src + plane * h * w
        for oy in 0..<oh {
            for ox in 0..<ow {
                let c = 2 * oy * w + 2 * ox
                let a = image[c], b = image[c + 1], d = image[c + w], e = image[c + w + 1]
                let top = a >= b ? a : b, topAt = a >= b ? c : c + 1
                let bottom = d >= e ? d : e, bottomAt = d >= e ? c + w : c + w + 1
                var best = top >= bottom ? top : bottom, bestAt = top >= bottom ? topAt : bottomAt
                if (a + b + d + e).isNaN {  // rare: let a NaN win, as in the readable path
                    for at in [c, c + 1, c + w, c + w + 1] where image[at].isNaN {
                        best = image[at]
                        bestAt = at
                        break
                    }
                }
                let k = (plane * oh + oy) * ow + ox
                dst[k] = best
                positions[k] = Int32(plane * h * w + bestAt)
            }
        }
    }
}
