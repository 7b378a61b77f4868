// The standard layers. Each is a few lines: parameters as stored properties,
// the computation in `forward`. Weights use PyTorch's layouts and default
// initializations, so state dicts move between the two.

/// y = x·Wᵀ + b, with W of shape [outFeatures, inFeatures].
public final class Linear: Module {
    /// [outFeatures, inFeatures], Kaiming-uniform (a = √5) like PyTorch.
    public let weight: Tensor
    /// [outFeatures], uniform in ±1/√inFeatures; `nil` without bias.
    public let bias: Tensor?

    /// A fully connected layer from `inFeatures` to `outFeatures`.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = Init.kaimingUniform([outFeatures, inFeatures], a: Float(5).squareRoot())
        weight.requiresGrad = true
        let bound = 1 / Float(inFeatures).squareRoot()
        self.bias = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, requiresGrad: true) : nil
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        require(x.shape.last == weight.shape[1],
                "Linear: input \(x.shape) has last axis \(x.shape.last ?? 0), expected \(weight.shape[1])")
        // BEGIN EXERCISE 8.5 — a linear layer: x·Wᵀ + b (Lessons/08-modules.md)
        let y = x.matmul(weight.transposed())  // a transposed view: BLAS reads it in place
        if let bias { return y + bias }  // [N, out] + [out] broadcasts over the batch
        return y
        // END EXERCISE 8.5
    }
}

/// 2-D convolution over NCHW images (see `Tensor.conv2d`).
public final class Conv2d: Module {
    /// [outChannels, inChannels / groups, kernelSize, kernelSize].
    public let weight: Tensor
    /// [outChannels], or `nil`.
    public let bias: Tensor?
    /// Window step.
    public let stride: Int
    /// Zeros added around each image side.
    public let padding: Int
    /// Spacing between the kernel's taps.
    public let dilation: Int
    /// Channel groups, each convolved with its own filters (inChannels: depthwise).
    public let groups: Int

    /// A convolution with square `kernelSize` windows.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true) {
        require(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                "Conv2d(\(inChannels), \(outChannels)): \(groups) groups must divide both channel counts")
        let shape = [outChannels, inChannels / groups, kernelSize, kernelSize]
        weight = Init.kaimingUniform(shape, a: Float(5).squareRoot())
        weight.requiresGrad = true
        let bound = 1 / Float(Init.fans(shape).fanIn).squareRoot()
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let layer = "Conv2d(\(weight.shape[1] * groups), \(weight.shape[0]), kernelSize: \(weight.shape[2]))"
        return x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                        caller: layer)
    }
}

/// Max pooling over square windows (see `Tensor.maxPool2d`).
public final class MaxPool2d: Module {
    /// Window side.
    public let kernelSize: Int
    /// Window step (defaults to `kernelSize`).
    public let stride: Int

    /// Pooling with `kernelSize` windows.
    public init(_ kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor { x.maxPool2d(kernelSize: kernelSize, stride: stride) }
}

/// Batch normalization (see `Tensor.batchNorm`): each channel normalized by
/// the batch's statistics in training, by running statistics in evaluation,
/// then scaled by γ (`weight`) and shifted by β (`bias`). `BatchNorm1d` and
/// `BatchNorm2d` differ only in the input ranks they accept. The state dict
/// holds PyTorch's names: `weight`, `bias`, `running_mean`, `running_var`,
/// `num_batches_tracked`.
open class BatchNorm: Module {
    /// γ, [C], ones at first; `nil` without `affine`.
    public let weight: Tensor?
    /// β, [C], zeros at first; `nil` without `affine`.
    public let bias: Tensor?
    /// The mean each channel is normalized by in evaluation: zeros at first.
    public let runningMean: Buffer
    /// The variance each channel is normalized by in evaluation: ones at first.
    public let runningVar: Buffer
    /// Training batches seen (a scalar).
    public let numBatchesTracked: Buffer
    /// How far the running statistics move toward each batch's: r ← (1 − m)·r + m·batch.
    public let momentum: Float
    /// Added to the variance before the square root.
    public let eps: Float
    let channels: Int
    let ranks: [Int]
    let inputDescription: String

    init(channels: Int, eps: Float, momentum: Float, affine: Bool, ranks: [Int], inputDescription: String) {
        require(channels > 0, "BatchNorm: the number of channels must be positive, got \(channels)")
        weight = affine ? Tensor.ones([channels], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([channels], requiresGrad: true) : nil
        runningMean = Buffer(Tensor.zeros([channels]), name: "running_mean")
        runningVar = Buffer(Tensor.ones([channels]), name: "running_var")
        numBatchesTracked = Buffer(Tensor.zeros([]), name: "num_batches_tracked")
        self.momentum = momentum
        self.eps = eps
        self.channels = channels
        self.ranks = ranks
        self.inputDescription = inputDescription
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let layer = "\(type(of: self))(\(channels))"
        require(ranks.contains(x.rank), "\(layer): input \(x.shape) must be \(inputDescription)")
        require(x.shape[1] == channels, "\(layer): input \(x.shape) has \(x.shape[1]) channels, expected \(channels)")
        let y = x.batchNorm(runningMean: runningMean.tensor, runningVar: runningVar.tensor, weight: weight, bias: bias,
                            training: isTraining, momentum: momentum, eps: eps, caller: layer)
        if isTraining { numBatchesTracked.tensor.assign(numBatchesTracked.tensor + 1) }
        return y
    }
}

/// Batch normalization of [N, C] or [N, C, L] inputs.
public final class BatchNorm1d: BatchNorm {
    /// Batch normalization of `channels` features.
    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(channels: channels, eps: eps, momentum: momentum, affine: affine, ranks: [2, 3],
                   inputDescription: "[N, C] or [N, C, L]")
    }
}

/// Batch normalization of [N, C, H, W] images, per channel.
public final class BatchNorm2d: BatchNorm {
    /// Batch normalization of `channels` channels.
    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(channels: channels, eps: eps, momentum: momentum, affine: affine, ranks: [4],
                   inputDescription: "[N, C, H, W]")
    }
}

/// Layer normalization over the trailing `normalizedShape` (see `Tensor.layerNorm`).
public final class LayerNorm: Module {
    /// The trailing shape each example is normalized over.
    public let normalizedShape: [Int]
    /// γ, ones at first, of `normalizedShape`; `nil` without `elementwiseAffine`.
    public let weight: Tensor?
    /// β, zeros at first; `nil` without `elementwiseAffine`.
    public let bias: Tensor?
    /// Added to the variance before the square root.
    public let eps: Float

    /// Layer normalization over the trailing axes `normalizedShape`.
    public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.normalizedShape = normalizedShape
        weight = elementwiseAffine ? Tensor.ones(normalizedShape, requiresGrad: true) : nil
        bias = elementwiseAffine ? Tensor.zeros(normalizedShape, requiresGrad: true) : nil
        self.eps = eps
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.layerNorm(normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}

/// Average pooling over square windows (see `Tensor.avgPool2d`).
public final class AvgPool2d: Module {
    /// Window side.
    public let kernelSize: Int
    /// Window step (defaults to `kernelSize`).
    public let stride: Int
    /// Zeros on each side, counted in the mean.
    public let padding: Int

    /// Pooling with `kernelSize` windows.
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling to a fixed output size (see `Tensor.adaptiveAvgPool2d`);
/// `AdaptiveAvgPool2d(1)` is global average pooling.
public final class AdaptiveAvgPool2d: Module {
    /// Output rows.
    public let outputHeight: Int
    /// Output columns.
    public let outputWidth: Int

    /// Pooling to `outputSize` × `outputSize`.
    public convenience init(_ outputSize: Int) { self.init((outputSize, outputSize)) }

    /// Pooling to `outputSize` (rows, columns).
    public init(_ outputSize: (Int, Int)) {
        (outputHeight, outputWidth) = outputSize
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor { x.adaptiveAvgPool2d((outputHeight, outputWidth)) }
}

/// Flattens every axis from `startAxis` on into one: [N, C, H, W] → [N, C·H·W].
public final class Flatten: Module {
    /// The first axis to merge.
    public let startAxis: Int

    /// A flattening layer (by default keeps the batch axis).
    public init(startAxis: Int = 1) {
        self.startAxis = startAxis
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let a = normalizedAxis(startAxis, rank: x.rank, op: "Flatten")
        return x.reshaped(Array(x.shape[..<a]) + [-1])
    }
}

/// Randomly zeroes elements with probability `p` during training and scales
/// the rest by 1/(1 − p), so the expected value is unchanged; identity in eval mode.
public final class Dropout: Module {
    /// The probability of zeroing an element.
    public let p: Float

    /// A dropout layer.
    public init(_ p: Float = 0.5) {
        require(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        // BEGIN EXERCISE 8.7 — dropout in training, the identity in evaluation (Lessons/08-modules.md)
        guard isTraining, p > 0 else { return x }
        let keep = 1 - p
        // One uniform draw per element: kept (scaled by 1/keep) when below `keep`.
        let mask = mapElements(Tensor.rand(x.shape)) { $0 < keep ? 1 / keep : 0 }
        return x * mask
        // END EXERCISE 8.7
    }
}

/// max(x, 0) as a layer.
public final class ReLU: Module {
    /// A ReLU layer.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

/// The logistic sigmoid as a layer.
public final class Sigmoid: Module {
    /// A sigmoid layer.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

/// tanh as a layer.
public final class Tanh: Module {
    /// A tanh layer.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

/// GELU as a layer.
public final class GELU: Module {
    /// A GELU layer.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.gelu() }
}

/// Layers applied one after another. Parameters are named by position,
/// `"0.weight"`, `"1.bias"`, …, exactly like PyTorch's `nn.Sequential`.
public final class Sequential: Module {
    /// The layers, in order.
    public let layers: [Module]

    /// A pipeline of `layers`.
    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
    }

    /// A pipeline of `layers`.
    public convenience init(_ layers: Module...) { self.init(layers) }

    public override func namedChildren() -> [(name: String, child: ModuleChild)] {
        layers.enumerated().map { ("\($0.offset)", .module($0.element)) }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        // BEGIN EXERCISE 8.6 — layers one after another (Lessons/08-modules.md)
        var y = x
        for layer in layers { y = layer(y) }  // call the layer, not layer.forward: that records its scope
        return y
        // END EXERCISE 8.6
    }
}
