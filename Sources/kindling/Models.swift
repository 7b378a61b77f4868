import ArgumentParser
import Kindling

/// The built-in models the CLI trains, benchmarks and draws.
enum BuiltinModel: String, ExpressibleByArgument, CaseIterable {
    case mlp, convnet, cnn

    /// A fresh, randomly initialized instance.
    func make() -> Sequential {
        switch self {
        case .mlp:
            // 784 → 128 → 10, the classic first network.
            return Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10))
        case .convnet:
            // Lesson 11's network: two conv–ReLU–max-pool stages, no batch norm
            // (28 → 14 → 7 pixels), then one linear layer on 32·7·7 features.
            return Sequential(Conv2d(1, 16, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(2),
                              Conv2d(16, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(2),
                              Flatten(), Linear(32 * 7 * 7, 10))
        case .cnn:
            // A small modern CNN: conv–BN–ReLU blocks at 28, 14 and 7 pixels,
            // then global average pooling and one linear layer.
            func block(_ input: Int, _ output: Int) -> [Module] {
                // No conv bias: the batch norm's β right after it plays that part.
                [Conv2d(input, output, kernelSize: 3, padding: 1, bias: false), BatchNorm2d(output), ReLU()]
            }
            return Sequential(block(1, 16) + block(16, 16) + [MaxPool2d(2)]
                              + block(16, 32) + block(32, 32) + [MaxPool2d(2)]
                              + block(32, 64) + [AdaptiveAvgPool2d(1), Flatten(), Linear(64, 10)])
        }
    }

    /// The fixed CNN of `kindling bench` (and of `bench/bench_torch.py`):
    /// 28 → 26 → 13 → 11 → 5, 5,258 parameters.
    static func benchmarkCNN() -> Sequential {
        Sequential(
            Conv2d(1, 8, kernelSize: 3), ReLU(), MaxPool2d(2),
            Conv2d(8, 16, kernelSize: 3), ReLU(), MaxPool2d(2),
            Flatten(), Linear(400, 10))
    }

    /// The fixed MLP of `kindling bench`: the same as `.mlp`.
    static func benchmarkMLP() -> Sequential { BuiltinModel.mlp.make() }
}
