// Normalization: batch norm and layer norm.
//
// Both subtract a mean and divide by a standard deviation, each computed over a
// GROUP of elements, then scale and shift by learned γ and β:
//
//     x̂ = (x − μ) / √(σ² + ε)          y = γ·x̂ + β
//
// Batch norm's groups are channels: for [N, C, H, W], channel c's group is
// every x[n, c, h, w] — over the batch and the image. Layer norm's groups are
// examples: each row's trailing `normalizedShape` elements.
//
// Composed from small ops (mean, subtract, square, mean, add, sqrt, divide,
// multiply, add) the forward pass records nine nodes, each allocating a tensor
// the size of the input, and backward walks all nine. Written as ONE rule, the
// backward is two sums per group and one pass over the elements. With
// dx̂ = γ·dy, and means taken over the group:
//
//     dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / √(σ² + ε)
//
// The first two terms: μ moves with every x, so a shift of x̂ that is the same
// across the group has no effect. The third: σ moves too, so a change along x̂
// itself is scaled away. (Lesson 12 derives it.)

/// How the elements of a contiguous tensor fall into normalization groups:
/// `outer` blocks of `groups` runs of `inner` elements. Group g is the runs
/// `(o · groups + g) · inner ..< +inner` for every o — [N, C, H·W] for batch
/// norm (group = channel), [1, rows, M] for layer norm (group = row).
struct NormLayout {
    let outer, groups, inner: Int
    /// Elements per group.
    var count: Int { outer * inner }

    /// Calls `body` with each run of `inner` elements of group `g`.
    @inline(__always)
    func forEachRun(of g: Int, _ body: (Int) -> Void) {
        for o in 0..<outer { body((o * groups + g) * inner) }
    }
}

/// Each group's mean and 1/√(σ² + ε), with σ² the biased variance (divided by
/// n, as normalization uses). Sums in Double: a group may hold millions of
/// elements.
func groupStatistics(_ x: UnsafePointer<Float>, _ layout: NormLayout,
                     eps: Float) -> (mean: [Float], variance: [Float], invStd: [Float]) {
    var mean = [Float](repeating: 0, count: layout.groups), variance = mean, invStd = mean
    mean.withUnsafeMutableBufferPointer { meanOut in
      variance.withUnsafeMutableBufferPointer { varianceOut in
        invStd.withUnsafeMutableBufferPointer { invStdOut in
            parallelChunks(layout.groups, minimumWork: layout.groups * layout.count) { groups in
                // BEGIN EXERCISE 12.1 — each group's mean, variance and 1/√(σ² + ε) (Lessons/12-normalization.md)
                for g in groups {
                    var sum = 0.0
                    layout.forEachRun(of: g) { start in
                        for i in start..<start + layout.inner { sum += Double(x[i]) }
                    }
                    let m = sum / Double(layout.count)
                    // Second pass: squares of the distances from the mean (stable even when the mean is large).
                    var squares = 0.0
                    layout.forEachRun(of: g) { start in
                        for i in start..<start + layout.inner { let d = Double(x[i]) - m; squares += d * d }
                    }
                    let v = squares / Double(layout.count)  // biased: divided by n
                    meanOut[g] = Float(m)
                    varianceOut[g] = Float(v)
                    invStdOut[g] = Float(1 / (v + Double(eps)).squareRoot())
                }
                // END EXERCISE 12.1
            }
        }
      }
    }
    return (mean, variance, invStd)
}

/// x̂ = (x − μ)·invStd for every element, into a new contiguous tensor of `shape`.
func normalized(_ x: UnsafePointer<Float>, _ layout: NormLayout, mean: [Float], invStd: [Float], shape: [Int]) -> Tensor {
    let out = Tensor(storage: Storage(uninitializedCount: layout.groups * layout.count), shape: shape)
    let y = out.storage.base
    parallelChunks(layout.groups, minimumWork: layout.groups * layout.count) { groups in
        for g in groups {
            let (m, s) = (mean[g], invStd[g])
            layout.forEachRun(of: g) { start in
                for i in start..<start + layout.inner { y[i] = (x[i] - m) * s }
            }
        }
    }
    return out
}

/// The one backward rule: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))·invStd, each
/// mean over the group. `dxHat` and `xHat` contiguous in `layout`.
func normalizationBackward(dxHat: Tensor, xHat: Tensor, _ layout: NormLayout, invStd: [Float]) -> Tensor {
    let dx = Tensor(storage: Storage(uninitializedCount: layout.groups * layout.count), shape: xHat.shape)
    let d = dxHat.storage.base + dxHat.offset  // dx̂
    let h = xHat.storage.base + xHat.offset  // x̂
    let out = dx.storage.base
    parallelChunks(layout.groups, minimumWork: layout.groups * layout.count) { groups in
        // BEGIN EXERCISE 12.4 — the fused backward rule, group by group (Lessons/12-normalization.md)
        for g in groups {
            var sumD = 0.0, sumDH = 0.0
            layout.forEachRun(of: g) { start in
                for i in start..<start + layout.inner { sumD += Double(d[i]); sumDH += Double(d[i]) * Double(h[i]) }
            }
            let meanD = Float(sumD / Double(layout.count)), meanDH = Float(sumDH / Double(layout.count))
            let s = invStd[g]
            layout.forEachRun(of: g) { start in
                for i in start..<start + layout.inner { out[i] = (d[i] - meanD - h[i] * meanDH) * s }
            }
        }
        // END EXERCISE 12.4
    }
    withExtendedLifetime((dxHat, xHat)) {}
    return dx
}

/// Moves each channel's running statistics toward the batch's, in place and
/// outside the graph: r ← (1 − momentum)·r + momentum·batch statistic, with
/// the unbiased variance (σ²·n/(n − 1), n = `count` values per channel) for
/// `runningVar`, as PyTorch. The running tensors are [C], possibly strided views.
func updateRunningStatistics(runningMean: Tensor, runningVar: Tensor, batchMean: [Float], batchVariance: [Float],
                             count: Int, momentum: Float) {
    // BEGIN EXERCISE 12.2 — move the running statistics toward the batch's (Lessons/12-normalization.md)
    // Statistics, not parameters: updated in place, outside the graph.
    let n = Float(count)
    for g in 0..<batchMean.count {
        let m = runningMean.storage.base + runningMean.offset + g * runningMean.strides[0]
        let v = runningVar.storage.base + runningVar.offset + g * runningVar.strides[0]
        m.pointee = (1 - momentum) * m.pointee + momentum * batchMean[g]
        v.pointee = (1 - momentum) * v.pointee + momentum * batchVariance[g] * n / (n - 1)  // unbiased: n/(n − 1)
    }
    // END EXERCISE 12.2
}

/// The values of a [C] tensor (possibly a strided view), one per channel.
func perChannelValues(_ t: Tensor) -> [Float] {
    (0..<t.shape[0]).map { t.storage.base[t.offset + $0 * t.strides[0]] }
}

/// y = γ·x̂ + β per group, into a new tensor (x̂ itself when there is neither).
func scaledAndShifted(_ xHat: Tensor, _ layout: NormLayout, gamma: [Float]?, beta: [Float]?) -> Tensor {
    guard gamma != nil || beta != nil else { return xHat }
    let out = Tensor(storage: Storage(uninitializedCount: layout.groups * layout.count), shape: xHat.shape)
    let h = xHat.storage.base + xHat.offset, y = out.storage.base
    parallelChunks(layout.groups, minimumWork: layout.groups * layout.count) { groups in
        for g in groups {
            let (scale, shift) = (gamma?[g] ?? 1, beta?[g] ?? 0)
            layout.forEachRun(of: g) { start in
                for i in start..<start + layout.inner { y[i] = scale * h[i] + shift }
            }
        }
    }
    withExtendedLifetime(xHat) {}
    return out
}

/// The affine step's backward, in one walk per group: dγ = Σ dy·x̂,
/// dβ = Σ dy, and dx̂ = γ·dy (dy itself when there is no γ).
func affineBackward(_ dy: Tensor, xHat: Tensor, _ layout: NormLayout,
                    gamma: [Float]?) -> (dxHat: Tensor, dGamma: [Float], dBeta: [Float]) {
    var dGamma = [Float](repeating: 0, count: layout.groups), dBeta = dGamma
    let dxHat = gamma == nil ? dy
        : Tensor(storage: Storage(uninitializedCount: layout.groups * layout.count), shape: dy.shape)
    let d = dy.storage.base + dy.offset, h = xHat.storage.base + xHat.offset
    let out = dxHat.storage.base + dxHat.offset
    dGamma.withUnsafeMutableBufferPointer { dGammaOut in
        dBeta.withUnsafeMutableBufferPointer { dBetaOut in
            parallelChunks(layout.groups, minimumWork: layout.groups * layout.count) { groups in
                for g in groups {
                    var sumD = 0.0, sumDH = 0.0
                    let scale = gamma?[g]
                    layout.forEachRun(of: g) { start in
                        for i in start..<start + layout.inner {
                            sumD += Double(d[i]); sumDH += Double(d[i]) * Double(h[i])
                        }
                        if let scale { for i in start..<start + layout.inner { out[i] = scale * d[i] } }
                    }
                    dGammaOut[g] = Float(sumDH)
                    dBetaOut[g] = Float(sumD)
                }
            }
        }
    }
    withExtendedLifetime((dy, xHat)) {}
    return (dxHat, dGamma, dBeta)
}

extension Tensor {
    /// Batch normalization of [N, C] or [N, C, …] over every axis but the
    /// channels (axis 1), as `torch.nn.functional.batch_norm`.
    ///
    /// In training, each channel is normalized by the batch's own mean and
    /// (biased) variance, and `runningMean`/`runningVar`, when given, move
    /// toward them in place: r ← (1 − momentum)·r + momentum·batch statistic,
    /// with the unbiased variance for `runningVar` (as PyTorch). In evaluation
    /// the running statistics are used instead, and nothing is updated.
    /// `weight` (γ) and `bias` (β) are [C], or nil for 1 and 0.
    public func batchNorm(runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil,
                          training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
        batchNorm(runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                  training: training, momentum: momentum, eps: eps, caller: "batchNorm")
    }

    /// `batchNorm`, its messages naming `caller` (a layer such as "BatchNorm2d(16)").
    func batchNorm(runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                   training: Bool, momentum: Float, eps: Float, caller: String) -> Tensor {
        require(rank >= 2, "\(caller): input \(shape) must be [N, C] or [N, C, …]")
        let c = shape[1]
        for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias)] {
            if let t { require(t.shape == [c], "\(caller): \(name) \(t.shape) must be [\(c)] for input \(shape)") }
        }
        // γ and β broadcast along axis 1: [C] → [1, C, 1, …].
        let perChannel = [1, c] + Array(repeating: 1, count: rank - 2)
        func affine(_ xHat: Tensor) -> Tensor {
            var y = xHat
            if let weight { y = y * weight.reshaped(perChannel) }
            if let bias { y = y + bias.reshaped(perChannel) }
            return y
        }
        guard training else {
            require(runningMean != nil && runningVar != nil,
                    "\(caller): evaluation needs runningMean and runningVar (input \(shape))")
            // BEGIN EXERCISE 12.3 — evaluation: normalize by the running statistics (Lessons/12-normalization.md)
            // Fixed statistics: an affine map per channel, composed of ordinary ops.
            let mean = runningMean!.detach().reshaped(perChannel), variance = runningVar!.detach().reshaped(perChannel)
            return affine((self - mean) / (variance + eps).sqrt())
            // END EXERCISE 12.3
        }
        let layout = NormLayout(outer: shape[0], groups: c, inner: shape.dropFirst(2).reduce(1, *))
        require(layout.count > 1,
                "\(caller): training needs more than one value per channel to compute a variance, got input \(shape)")
        let x = contiguous().detach()
        let (batchMean, batchVariance, invStd) = withExtendedLifetime(x) { groupStatistics(x.storage.base + x.offset, layout, eps: eps) }
        let xHat = withExtendedLifetime(x) {
            normalized(x.storage.base + x.offset, layout, mean: batchMean, invStd: invStd, shape: shape)
        }
        if let runningMean, let runningVar {
            updateRunningStatistics(runningMean: runningMean, runningVar: runningVar, batchMean: batchMean,
                                    batchVariance: batchVariance, count: layout.count, momentum: momentum)
        }
        // One node for x̂ and y = γ·x̂ + β: its rule takes dγ and dβ, hands
        // dx̂ = γ·dy to the fused rule, and returns dx, dγ, dβ. (The fast path:
        // γ and β as a broadcast multiply and add — as evaluation does them —
        // would write two more tensors the size of x forward and three
        // backward, a tenth of a CNN's epoch.)
        let gamma = weight.map(perChannelValues), beta = bias.map(perChannelValues)
        let y = scaledAndShifted(xHat, layout, gamma: gamma, beta: beta)
        let inputs = [self] + [weight, bias].compactMap { $0 }
        return Tensor.record(y, op: "batchNorm", inputs: inputs) { dy in
            let (dxHat, dGamma, dBeta) = affineBackward(dy.contiguous(), xHat: xHat, layout, gamma: gamma)
            var grads: [Tensor?] = [normalizationBackward(dxHat: dxHat, xHat: xHat, layout, invStd: invStd)]
            if weight != nil { grads.append(Tensor(dGamma, shape: [c])) }
            if bias != nil { grads.append(Tensor(dBeta, shape: [c])) }
            return grads
        }
    }

    /// Layer normalization over the trailing axes `normalizedShape`, as
    /// `torch.nn.functional.layer_norm`: each example's last
    /// `normalizedShape.count` axes are one group. `weight` (γ) and `bias` (β)
    /// have shape `normalizedShape`, or are nil for 1 and 0.
    public func layerNorm(_ normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5) -> Tensor {
        require(!normalizedShape.isEmpty && rank >= normalizedShape.count && Array(shape.suffix(normalizedShape.count)) == normalizedShape,
                "layerNorm: input \(shape) does not end in the normalized shape \(normalizedShape)")
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t { require(t.shape == normalizedShape, "layerNorm: \(name) \(t.shape) must be \(normalizedShape)") }
        }
        // BEGIN EXERCISE 12.5 — layer norm: one group per example, then γ and β (Lessons/12-normalization.md)
        let inner = normalizedShape.reduce(1, *)  // the elements of one group: the trailing axes
        let layout = NormLayout(outer: 1, groups: count / Swift.max(inner, 1), inner: inner)
        let x = contiguous().detach()
        let (mean, _, invStd) = withExtendedLifetime(x) { groupStatistics(x.storage.base + x.offset, layout, eps: eps) }
        let xHat = withExtendedLifetime(x) {
            normalized(x.storage.base + x.offset, layout, mean: mean, invStd: invStd, shape: shape)
        }
        let normalizedNode = Tensor.record(xHat, op: "layerNorm", inputs: [self]) { g in
            [normalizationBackward(dxHat: g.contiguous(), xHat: xHat, layout, invStd: invStd)]
        }
        // γ and β have the trailing shape: they broadcast over the leading axes.
        var y = normalizedNode
        if let weight { y = y * weight }
        if let bias { y = y + bias }
        return y
        // END EXERCISE 12.5
    }
}
