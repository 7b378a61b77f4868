// Receptive fields: how much of the input one output of a stack of windowed
// layers (convolutions, pooling) can see.
//
// Along one axis, a layer with kernel k, stride s and dilation d lets one of
// its outputs see (k − 1)·d more of its own input than one position. One step
// of its input is `jump` pixels of the original image — the product of the
// strides of every layer below — so, layer by layer:
//
//     size = 1, jump = 1                      one pixel sees itself
//     size += (k − 1)·d·jump                  this layer's window, in image pixels
//     jump *= s                               neighbours of its output are s of its inputs apart
//
// Layers that work pixel by pixel (ReLU, batch norm) change neither.

/// One windowed layer along one axis.
public struct Window: Equatable, Sendable {
    /// Taps of the kernel.
    public var kernel: Int
    /// Step between windows.
    public var stride: Int
    /// Spacing between taps.
    public var dilation: Int

    /// A window of `kernel` taps moved by `stride`.
    public init(kernel: Int, stride: Int = 1, dilation: Int = 1) {
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
    }
}

/// The receptive field of one output of `windows` stacked in order: how many
/// input pixels it sees along one axis (`size`), and how many input pixels
/// apart two neighbouring outputs are (`jump`).
public func receptiveField(_ windows: [Window]) -> (size: Int, jump: Int) {
    // BEGIN EXERCISE 11.8 — receptive fields through a stack of layers (Lessons/11-convolution.md)
    var size = 1, jump = 1
    for window in windows {
        size += (window.kernel - 1) * window.dilation * jump
        jump *= window.stride
    }
    return (size, jump)
    // END EXERCISE 11.8
}

/// The windows of a model's convolutions and fixed-size pooling layers, in
/// order (layers inside nested `Sequential`s included). Pixel-wise layers have
/// none; an adaptive pooling's window depends on its input, so it has none here.
public func windows(of model: Module) -> [Window] {
    switch model {
    case let conv as Conv2d:
        return [Window(kernel: conv.weight.shape[2], stride: conv.stride, dilation: conv.dilation)]
    case let pool as MaxPool2d:
        return [Window(kernel: pool.kernelSize, stride: pool.stride)]
    case let pool as AvgPool2d:
        return [Window(kernel: pool.kernelSize, stride: pool.stride)]
    case let sequence as Sequential:
        return sequence.layers.flatMap { windows(of: $0) }
    default:
        return []
    }
}
