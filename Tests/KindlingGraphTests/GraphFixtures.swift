import Foundation
import Kindling
@testable import KindlingGraph

/// Small, fully deterministic computations to draw. Weights are written out
/// (not drawn from the random generator), so the goldens do not depend on it.
enum GraphFixtures {
    /// micrograd's first example: L = (a·b + c)·f, after backward().
    static func valueExpression(options: GraphOptions = .init()) -> (graph: Graph, output: Value) {
        let a = Value(2, label: "a"), b = Value(-3, label: "b"), c = Value(10, label: "c")
        let e = a * b
        e.label = "e"
        let d = e + c
        d.label = "d"
        let f = Value(-2, label: "f")
        let L = d * f
        L.label = "L"
        L.backward()
        return (Graph(of: L, options: options), L)
    }

    /// A 3 → 2 → 2 MLP with fixed weights, a cross-entropy loss on 2 examples, after backward().
    static func mlp() -> Sequential {
        let model = Sequential(Linear(3, 2), ReLU(), Linear(2, 2))
        try! model.load(stateDict: [
            "0.weight": Tensor([0.1, -0.2, 0.3, 0.4, 0.5, -0.6], shape: [2, 3]),
            "0.bias": Tensor([0.01, -0.02]),
            "2.weight": Tensor([0.7, -0.8, 0.9, 1.0], shape: [2, 2]),
            "2.bias": Tensor([0.03, 0.04]),
        ])
        return model
    }

    static func mlpLoss(options: GraphOptions = .init()) -> (graph: Graph, loss: Tensor, model: Sequential) {
        let model = mlp()
        let x = Tensor([1, 2, 3, -1, 0.5, 2], shape: [2, 3])
        let loss = crossEntropy(model(x), [0, 1])
        loss.backward()
        return (Graph(of: loss, module: model, options: options), loss, model)
    }

    /// A [3, 1] + [4] broadcast to [3, 4], summed, after backward().
    static func broadcast(options: GraphOptions = .init()) -> Graph {
        let a = Tensor([1, 2, 3], shape: [3, 1], requiresGrad: true)
        let b = Tensor([10, 20, 30, 40], shape: [4], requiresGrad: true)
        let y = (a + b).sum()
        y.backward()
        return Graph(of: y, options: options)
    }
}
