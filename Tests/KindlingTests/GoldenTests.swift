import Foundation
import Kindling
import Testing

// Golden tests: composite expressions checked against PyTorch.
//
// `Data/golden.json` is written by `scripts/golden.py`: for each case it holds
// the inputs (float32), the forward value PyTorch computed (in float64,
// rounded to float32), the upstream gradient used for non-scalar outputs, and
// the gradient of every input that requires grad. Here each expression is
// rebuilt with Kindling on the same inputs and both the value and every
// gradient must match within |actual − expected| ≤ 1e-5 + 1e-4·|expected|.
//
// To add a case: add it to scripts/golden.py, re-run the script, then add the
// name to `GoldenTests.caseNames` and a branch to `GoldenTests.build`.

/// One tensor as stored in golden.json.
struct GoldenArray: Decodable, Sendable {
    let shape: [Int]
    let values: [Float]
}

/// A named input of a case.
struct GoldenInput: Decodable, Sendable {
    let name: String
    let requiresGrad: Bool
    let shape: [Int]
    let values: [Float]
}

/// A named gradient of a case.
struct GoldenGrad: Decodable, Sendable {
    let name: String
    let shape: [Int]
    let values: [Float]
}

/// One golden case.
struct GoldenCase: Decodable, Sendable {
    let name: String
    let expression: String
    let inputs: [GoldenInput]
    let targets: [Int]?
    let output: GoldenArray
    let gradOutput: GoldenArray?
    let grads: [GoldenGrad]
}

/// The whole file.
struct GoldenFile: Decodable, Sendable {
    let generator: String
    let torch: String
    let cases: [GoldenCase]
}

/// golden.json, read once.
let goldenFile: Result<GoldenFile, any Error> = Result(catching: {
    let url = Bundle.module.url(forResource: "Data", withExtension: nil)!.appendingPathComponent("golden.json")
    return try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: url))
})

/// Where `actual` strays furthest past the tolerance, or nil when it is within.
func goldenMismatch(_ actual: [Float], _ expected: [Float],
                    relative: Double = 1e-4, absolute: Double = 1e-5) -> String? {
    precondition(actual.count == expected.count)
    var worst: (index: Int, excess: Double)? = nil
    for i in expected.indices {
        let a = Double(actual[i]), e = Double(expected[i])
        let excess = a.isNaN ? .infinity : Swift.abs(a - e) - (absolute + relative * Swift.abs(e))
        if excess > 0 && (worst == nil || excess > worst!.excess) { worst = (i, excess) }
    }
    guard let worst else { return nil }
    let a = actual[worst.index], e = expected[worst.index]
    return "worst element \(worst.index): expected \(e), got \(a) (|error| \(Swift.abs(Double(a) - Double(e))), " +
        "allowed \(absolute + relative * Swift.abs(Double(e))))"
}

@Suite("Golden values from PyTorch")
struct GoldenTests {
    /// Every case in golden.json, in file order.
    static let caseNames = [
        "tanh_composite",
        "mlp_cross_entropy",
        "softmax_large",
        "logsoftmax_logsumexp_large",
        "matmul_transposed_bias",
        "batched_matmul_broadcast",
        "unary_chain",
        "reductions_keepdim",
        "where_compare",
        "conv_relu_pool",
        "conv_sum_squares",
        "mse_loss",
        "bce_with_logits",
        "nll_log_softmax",
        "views_feed_ops",
        "layer_norm_composite",
        "conv_edge_1x1_input",
        "conv_edge_width_1",
        "conv_edge_stride_past_kernel",
        "pool_edge_windows",
        "batch_norm_train_4d",
        "batch_norm_train_2d",
        "layer_norm_fused",
        "avg_pool_padded",
        "adaptive_avg_pool",
        "conv_dilated_grouped",
        "conv_depthwise",
    ]

    /// The Kindling version of each case's expression (mirrors `fn` in
    /// scripts/golden.py). `t` holds the inputs by name.
    static func build(_ name: String, _ t: [String: Tensor], targets: [Int]?) -> Tensor {
        switch name {
        case "tanh_composite":
            let (a, b, c) = (t["a"]!, t["b"]!, t["c"]!)
            return ((a * b + a / (b.abs() + 1)).tanh() * c).sum()

        case "mlp_cross_entropy":
            let hidden = (t["x"]!.matmul(t["w1"]!) + t["b1"]!).relu()
            return crossEntropy(hidden.matmul(t["w2"]!) + t["b2"]!, targets!)

        case "softmax_large":
            return t["x"]!.softmax(axis: 1)

        case "logsoftmax_logsumexp_large":
            let x = t["x"]!
            return (x.logSoftmax(axis: 0) * t["w"]!).sum() + x.logsumexp(axis: 1, keepdim: true).sum()

        case "matmul_transposed_bias":
            return (t["x"]!.matmul(t["w"]!.transposed()) + t["b"]!).tanh()

        case "batched_matmul_broadcast":
            return t["a"]!.matmul(t["b"]!)

        case "unary_chain":
            let x = t["x"]!
            let smooth = x.sigmoid() * x.gelu() + x.relu() + (x.exp() + 1).log()
            return smooth + (x * x + 1).sqrt() + (x.abs() + 0.5).pow(1.5) + x.clamp(min: -0.5, max: 0.7)

        case "reductions_keepdim":
            let x = t["x"]!
            let centered = x - x.mean(axes: [0, 2], keepdim: true)
            let scaled = centered / (x.variance(axes: [1], keepdim: true) + 1).sqrt()
            return (scaled * x.max(axis: 2, keepdim: true) - x.min(axis: 0, keepdim: true)).pow(2).mean()

        case "where_compare":
            let (a, b) = (t["a"]!, t["b"]!)
            let w = Tensor.where(a .> b, a * b, a - b * 2)
            return Tensor.where(a .<= 0.2, w.exp(), w * (b .< 0.5) + w).sum()

        case "conv_relu_pool":
            return t["x"]!.conv2d(t["w"]!, bias: t["b"]!, stride: 2, padding: 1).relu().maxPool2d(kernelSize: 2)

        case "conv_sum_squares":
            let y = t["x"]!.conv2d(t["w"]!, bias: t["b"]!, stride: 2, padding: 1)
            return (y * y).sum()

        case "mse_loss":
            return mseLoss(t["a"]!.tanh() * 2, t["target"]!)

        case "bce_with_logits":
            return binaryCrossEntropyWithLogits(t["z"]!, t["target"]!)

        case "nll_log_softmax":
            return nllLoss((t["x"]! * 3).logSoftmax(axis: 1), targets!)

        case "views_feed_ops":
            let (x, y, c) = (t["x"]!, t["y"]!, t["c"]!)
            let s = x.sliced(axis: 1, from: 1, to: 6, step: 2)           // [4, 3]
            let z = s.unsqueezed(axis: 1) * y.permuted([2, 0, 1]) + c.expanded(to: [2, 3])  // [4, 2, 3]
            return z.transposed(0, 2).reshaped([3, 8]).sum(axis: 1) * c.squeezed(axis: 0)

        case "layer_norm_composite":
            let x = t["x"]!
            let centered = x - x.mean(axis: -1, keepdim: true)
            let normalized = centered / (x.variance(axes: [-1], keepdim: true, unbiased: false) + 1e-5).sqrt()
            return (normalized * t["g"]! + t["b"]!).gelu().sum(axis: 0)

        case "conv_edge_1x1_input", "conv_edge_width_1", "conv_edge_stride_past_kernel":
            let (stride, padding) = ["conv_edge_1x1_input": (2, 1), "conv_edge_width_1": (3, 2),
                                     "conv_edge_stride_past_kernel": (3, 2)][name]!
            let y = t["x"]!.conv2d(t["w"]!, bias: t["b"]!, stride: stride, padding: padding)
            return (y * y).sum()

        case "pool_edge_windows":
            return (t["x"]!.maxPool2d(kernelSize: 3, stride: 2) * t["w"]!).sum()

        case "batch_norm_train_4d":
            return t["x"]!.batchNorm(runningMean: nil, runningVar: nil, weight: t["g"]!, bias: t["b"]!, training: true)

        case "batch_norm_train_2d":
            return t["x"]!.batchNorm(runningMean: nil, runningVar: nil, weight: t["g"]!, bias: t["b"]!, training: true, eps: 1e-3)

        case "layer_norm_fused":
            return t["x"]!.layerNorm([3, 4], weight: t["g"]!, bias: t["b"]!)

        case "avg_pool_padded":
            return t["x"]!.avgPool2d(kernelSize: 3, stride: 2, padding: 1)

        case "adaptive_avg_pool":
            return t["x"]!.adaptiveAvgPool2d((3, 2)) + t["x"]!.adaptiveAvgPool2d((1, 1))

        case "conv_dilated_grouped":
            let y = t["x"]!.conv2d(t["w"]!, bias: t["b"]!, stride: 1, padding: 2, dilation: 2, groups: 2)
            return (y * y).sum()

        case "conv_depthwise":
            return t["x"]!.conv2d(t["w"]!, stride: 2, padding: 1, groups: 3)

        default:
            fatalError("GoldenTests: no Kindling expression for case '\(name)'")
        }
    }

    @Test("golden.json and the Swift cases list the same names")
    func everyCaseHasABuilder() throws {
        let file = try goldenFile.get()
        #expect(file.cases.map(\.name) == Self.caseNames)
    }

    @Test("value and gradients match PyTorch", arguments: caseNames)
    func matchesPyTorch(_ name: String) throws {
        let file = try goldenFile.get()
        let golden = try #require(file.cases.first { $0.name == name }, "case '\(name)' is missing from golden.json")

        var inputs: [String: Tensor] = [:]
        for input in golden.inputs {
            inputs[input.name] = Tensor(input.values, shape: input.shape, requiresGrad: input.requiresGrad)
        }
        let out = Self.build(name, inputs, targets: golden.targets)

        #expect(out.shape == golden.output.shape, "\(name): output shape")
        if out.shape == golden.output.shape {
            let mismatch = goldenMismatch(out.toArray(), golden.output.values)
            #expect(mismatch == nil, "\(name) value: \(mismatch ?? "")\n  expression: \(golden.expression)")
        }

        if let gradOutput = golden.gradOutput {
            try #require(gradOutput.shape == out.shape, "\(name): gradOutput shape \(gradOutput.shape) vs output \(out.shape)")
            out.backward(Tensor(gradOutput.values, shape: gradOutput.shape))
        } else {
            out.backward()
        }

        #expect(Set(golden.grads.map(\.name)) == Set(golden.inputs.filter(\.requiresGrad).map(\.name)))
        for expected in golden.grads {
            let grad = try #require(inputs[expected.name]?.grad, "\(name): input '\(expected.name)' got no gradient")
            #expect(grad.shape == expected.shape, "\(name): gradient of '\(expected.name)' has shape \(grad.shape)")
            guard grad.shape == expected.shape else { continue }
            let mismatch = goldenMismatch(grad.toArray(), expected.values)
            #expect(mismatch == nil, "\(name) gradient of '\(expected.name)': \(mismatch ?? "")\n  expression: \(golden.expression)")
        }
    }
}
