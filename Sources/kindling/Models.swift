import ArgumentParser
import Kindling

/// The built-in models the CLI trains, benchmarks and draws.
enum BuiltinModel: String, ExpressibleByArgument, CaseIterable {
    case mlp, cnn

    /// A fresh, randomly initialized instance.
    func make() -> Sequential {
        switch self {
        case .mlp:
            // 784 → 128 → 10, the classic first network.
            return Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10))
        case .cnn:
            // Two conv/pool stages, then a small classifier: 28 → 14 → 7.
            return Sequential(
                Conv2d(1, 16, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(2),
                Conv2d(16, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(2),
                Flatten(), Linear(32 * 7 * 7, 128), ReLU(), Linear(128, 10))
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
