import Foundation
import Kindling
import Testing

// Tests of the neural-network layer: modules, layers, initialization, losses,
// optimizers and schedulers.
//
// `Data/golden_nn.json` is written by `scripts/golden_nn.py` (PyTorch): the
// parameters after every step of several optimizers on one small fixed
// problem, two learning-rate schedules, and the logits of a PyTorch MLP whose
// weights are in `Data/torch_mlp.safetensors`. Re-run the script after
// changing it; its output is deterministic.

// MARK: - Fixture files

private struct NNArray: Decodable, Sendable {
    let shape: [Int]
    let values: [Float]
}

private struct NNOptimizerCase: Decodable, Sendable {
    struct Step: Decodable, Sendable {
        let w: NNArray
        let b: NNArray
    }

    let name: String
    let optimizer: String
    let lr: Float
    let momentum: Float?
    let nesterov: Bool?
    let weightDecay: Float?
    /// Steps (1-based) on which b is left out of the loss, so it has no gradient.
    let biasFrozenSteps: [Int]
    let steps: [Step]
}

private struct NNSchedulerCase: Decodable, Sendable {
    let name: String
    let scheduler: String
    let lr: Float
    let stepSize: Int?
    let gamma: Float?
    let totalEpochs: Int?
    let minimum: Float?
    /// The rate in force during epochs 0…10 (initial rate first).
    let learningRates: [Float]
}

private struct NNMLPFixture: Decodable, Sendable {
    struct Entry: Decodable, Sendable {
        let name: String
        let shape: [Int]
    }

    let file: String
    let stateDict: [Entry]
    let input: NNArray
    let logits: NNArray
}

private struct NNGoldenFile: Decodable, Sendable {
    struct Problem: Decodable, Sendable {
        let x: NNArray
        let y: NNArray
        let w: NNArray
        let b: NNArray
    }

    let generator: String
    let torch: String
    let problem: Problem
    let optimizers: [NNOptimizerCase]
    let schedulers: [NNSchedulerCase]
    let mlp: NNMLPFixture
}

/// The test bundle's `Data` folder.
private func nnDataURL(_ name: String) -> URL {
    Bundle.module.url(forResource: "Data", withExtension: nil)!.appendingPathComponent(name)
}

/// golden_nn.json, read once.
private let nnGolden: Result<NNGoldenFile, any Error> = Result(catching: {
    try JSONDecoder().decode(NNGoldenFile.self, from: Data(contentsOf: nnDataURL("golden_nn.json")))
})

// MARK: - Helpers

/// Where `actual` strays furthest past |a − e| ≤ absolute + relative·|e|, or nil.
private func nnMismatch(_ actual: [Float], _ expected: [Float],
                        relative: Double = 1e-5, absolute: Double = 1e-6) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    var worst: (index: Int, excess: Double)? = nil
    for i in expected.indices {
        let a = Double(actual[i]), e = Double(expected[i])
        let excess = a.isNaN ? .infinity : Swift.abs(a - e) - (absolute + relative * Swift.abs(e))
        if excess > 0 && (worst == nil || excess > worst!.excess) { worst = (i, excess) }
    }
    guard let worst else { return nil }
    let a = actual[worst.index], e = expected[worst.index]
    return "worst element \(worst.index): expected \(e), got \(a) (|error| \(Swift.abs(Double(a) - Double(e))))"
}

/// Runs `body` with a fresh path in a new temporary folder, removed afterwards.
private func nnWithTemporaryPath(_ name: String, _ body: (String) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-nn-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try body(dir.appendingPathComponent(name).path)
}

/// Mean and (population) standard deviation, in Double.
private func nnMeanStd(_ values: [Float]) -> (mean: Double, std: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance.squareRoot())
}

/// Values drawn from a private seeded generator (independent of the global one,
/// which tests running in parallel share).
private func nnRandom(_ shape: [Int], seed: UInt64, scale: Float = 1, requiresGrad: Bool = false) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let values = (0..<elementCount(shape)).map { _ in g.nextNormal() * scale }
    return Tensor(values, shape: shape, requiresGrad: requiresGrad)
}

/// Every parameter's values, by name.
private func nnSnapshot(_ module: Module) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.parameter.toArray()) })
}

// MARK: - Modules used by the tests

/// A block with a direct parameter, a submodule, a nil optional and arrays of modules.
private final class NNBlock: Module {
    let fc = Linear(4, 3)
    let scale = Tensor.ones([3], requiresGrad: true)
    let missingBias: Tensor? = nil
    let layers: [Module] = [Linear(3, 3), Linear(3, 2, bias: false)]
    let typedLayers: [Linear] = [Linear(2, 2)]
    let notAParameter = 3
    let name = "block"

    override func forward(_ x: Tensor) -> Tensor {
        let h = (fc(x) * scale).tanh()
        return typedLayers[0](layers.reduce(h) { $1($0) })
    }
}

/// A model holding a raw tensor, a nested block and optional submodules.
private final class NNNet: Module {
    let embed = Tensor.ones([4], requiresGrad: true)
    let block = NNBlock()
    let head: Linear? = Linear(2, 1)
    let missingHead: Linear? = nil

    override func forward(_ x: Tensor) -> Tensor { head!(block(x * embed)) }
}

/// The same Linear and the same tensor stored under two names each.
private final class NNTied: Module {
    let first: Linear
    let second: Linear
    let w: Tensor
    let wAgain: Tensor

    init(shared: Linear, tensor: Tensor) {
        first = shared
        second = shared
        w = tensor
        wAgain = tensor
        super.init()
    }

    override func forward(_ x: Tensor) -> Tensor { second(first(x)) * w }
}

/// A module subclass of a module subclass: superclass properties come first.
private class NNBase: Module {
    let early = Linear(2, 2)
}

private final class NNDerived: NNBase {
    let late = Linear(2, 2, bias: false)
    override func forward(_ x: Tensor) -> Tensor { late(early(x)) }
}

/// The architecture of torch_mlp.safetensors.
private func nnTorchShapedMLP() -> Sequential {
    Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10))
}

// MARK: - Suites

/// All neural-network tests (run them with `swift test --filter NNTests`).
@Suite("Neural networks")
struct NNTests {}

extension NNTests {
    @Suite("Module")
    struct ModuleTests {
        @Test func parametersAreFoundByReflectionWithDottedNames() {
            let net = NNNet()
            #expect(net.namedParameters().map(\.name) == [
                "embed",
                "block.scale",
                "block.fc.weight", "block.fc.bias",
                "block.layers.0.weight", "block.layers.0.bias",
                "block.layers.1.weight",
                "block.typedLayers.0.weight", "block.typedLayers.0.bias",
                "head.weight", "head.bias",
            ])
            #expect(net.namedModules().map(\.name) == [
                "", "block", "block.fc", "block.layers.0", "block.layers.1", "block.typedLayers.0", "head",
            ])
            #expect(net.parameters().count == 11)
            #expect(net.parameters()[0] === net.embed)
            #expect(net.parameters()[2] === net.block.fc.weight)
            // The model runs end to end.
            #expect(net(Tensor.ones([5, 4])).shape == [5, 1])
        }

        @Test func superclassPropertiesComeFirst() {
            #expect(NNDerived().namedParameters().map(\.name) == ["early.weight", "early.bias", "late.weight"])
        }

        @Test func sequentialNamesParametersByPosition() {
            let model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2, bias: false), Sequential(Linear(2, 2)))
            #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "3.0.weight", "3.0.bias"])
            #expect(model.namedModules().map(\.name) == ["", "0", "1", "2", "3", "3.0"])
        }

        @Test func sharedSubmodulesAndTensorsAreCountedOnce() {
            let shared = Linear(3, 3)
            let tensor = Tensor.ones([3], requiresGrad: true)
            let tied = NNTied(shared: shared, tensor: tensor)
            #expect(tied.namedParameters().map(\.name) == ["w", "first.weight", "first.bias"])
            #expect(tied.parameterCount == 3 + 9 + 3)

            let twice = Sequential(shared, ReLU(), shared)
            #expect(twice.namedParameters().map(\.name) == ["0.weight", "0.bias"])
            #expect(twice.parameterCount == 12)
            #expect(Set(twice.stateDict().keys) == ["0.weight", "0.bias"])
        }

        @Test func parameterCountSumsElements() {
            #expect(nnTorchShapedMLP().parameterCount == 784 * 128 + 128 + 128 * 10 + 10)
            #expect(NNNet().parameterCount == 4 + 3 + (12 + 3) + (9 + 3) + 6 + (4 + 2) + (2 + 1))
            #expect(Sequential(ReLU(), Flatten()).parameterCount == 0)
            #expect(Conv2d(3, 8, kernelSize: 5).parameterCount == 8 * 3 * 25 + 8)
        }

        @Test func trainAndEvalReachEverySubmodule() {
            let net = NNNet()
            let model = Sequential(net, Dropout(0.5), Sequential(Linear(1, 1), Dropout(0.1)))
            #expect(model.namedModules().allSatisfy { $0.module.isTraining })
            model.eval()
            #expect(model.namedModules().allSatisfy { !$0.module.isTraining })
            #expect(!net.block.fc.isTraining)
            #expect(!net.block.typedLayers[0].isTraining)
            model.train()
            #expect(model.namedModules().allSatisfy { $0.module.isTraining })
            // A submodule's mode can be switched on its own.
            net.eval()
            #expect(!net.block.isTraining && !net.head!.isTraining)
            #expect(model.isTraining)
        }

        @Test func zeroGradClearsEveryGradient() {
            let net = NNNet()
            net(nnRandom([3, 4], seed: 1)).sum().backward()
            #expect(net.parameters().allSatisfy { $0.grad != nil })
            net.zeroGrad()
            #expect(net.parameters().allSatisfy { $0.grad == nil })
        }

        @Test func stateDictSharesStorageAndIsDetached() {
            let model = Sequential(Linear(3, 2))
            let state = model.stateDict()
            #expect(Set(state.keys) == ["0.weight", "0.bias"])
            let weight = state["0.weight"]!
            #expect(weight.shape == [2, 3])
            #expect(!weight.requiresGrad && weight.isLeaf)
            weight.fill(7)
            let layer = model.layers[0] as! Linear
            #expect(layer.weight.toArray() == [Float](repeating: 7, count: 6))
            #expect(layer.weight.requiresGrad, "the parameter itself still requires grad")
        }

        @Test func loadStateDictRoundTrip() throws {
            let source = NNNet(), target = NNNet()
            // Make sure every value differs before loading.
            noGrad { for p in target.parameters() { p.fill(-3) } }
            try target.load(stateDict: source.stateDict())
            #expect(nnSnapshot(target) == nnSnapshot(source))
            // Values are copied, not shared.
            source.block.fc.weight.fill(42)
            #expect(!target.block.fc.weight.toArray().contains(42))
            #expect(target.parameters().allSatisfy { $0.requiresGrad && $0.isLeaf })
        }

        @Test func strictLoadRejectsMissingKeysAndChangesNothing() {
            let model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
            let before = nnSnapshot(model)
            var state = Sequential(Linear(3, 2), ReLU(), Linear(2, 1)).stateDict()
            state["2.bias"] = nil
            state["0.bias"] = nil
            let error = #expect(throws: StateDictError.self) { try model.load(stateDict: state) }
            #expect(error?.description.contains("missing") == true, "\(String(describing: error))")
            #expect(error?.description.contains("2.bias") == true, "\(String(describing: error))")
            #expect(error?.description.contains("0.bias") == true, "\(String(describing: error))")
            #expect(error?.description.contains("0.weight") == false, "\(String(describing: error))")
            #expect(nnSnapshot(model) == before, "nothing is loaded when load throws")
        }

        @Test func strictLoadRejectsUnexpectedKeysAndChangesNothing() {
            let model = Sequential(Linear(3, 2))
            let before = nnSnapshot(model)
            var state = Sequential(Linear(3, 2)).stateDict()
            state["1.weight"] = Tensor.ones([2, 2])
            state["running_mean"] = Tensor.ones([2])
            let error = #expect(throws: StateDictError.self) { try model.load(stateDict: state) }
            #expect(error?.description.contains("unexpected") == true, "\(String(describing: error))")
            #expect(error?.description.contains("1.weight") == true, "\(String(describing: error))")
            #expect(error?.description.contains("running_mean") == true, "\(String(describing: error))")
            #expect(nnSnapshot(model) == before, "nothing is loaded when load throws")
        }

        @Test func nonStrictLoadIsPartial() throws {
            let model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
            let before = nnSnapshot(model)
            let newWeight = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
            try model.load(stateDict: ["0.weight": newWeight, "extra.thing": Tensor.ones([5])], strict: false)
            let after = nnSnapshot(model)
            #expect(after["0.weight"] == [1, 2, 3, 4, 5, 6])
            for name in ["0.bias", "2.weight", "2.bias"] {
                #expect(after[name] == before[name], "\(name) is left alone")
            }
        }

        @Test func shapeMismatchNamesTheParameterAndBothShapes() {
            let model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
            let before = nnSnapshot(model)
            var state = Sequential(Linear(3, 2), ReLU(), Linear(2, 1)).stateDict()
            state["0.weight"] = Tensor.ones([3, 2])
            for strict in [true, false] {
                let error = #expect(throws: StateDictError.self) { try model.load(stateDict: state, strict: strict) }
                let text = error?.description ?? ""
                #expect(text.contains("0.weight"), "\(text)")
                #expect(text.contains("[2, 3]"), "expected shape named: \(text)")
                #expect(text.contains("[3, 2]"), "given shape named: \(text)")
                #expect(!text.contains("2.weight"), "\(text)")
                #expect(nnSnapshot(model) == before, "nothing is loaded when load throws (strict: \(strict))")
            }
        }

        @Test func saveAndLoadThroughAFile() throws {
            try nnWithTemporaryPath("net.safetensors") { path in
                let source = NNNet()
                try source.save(to: path, metadata: ["epoch": "3"])
                #expect(try loadSafetensorsMetadata(from: path) == ["epoch": "3"])
                let target = NNNet()
                noGrad { for p in target.parameters() { p.fill(0) } }
                try target.load(from: path)
                #expect(nnSnapshot(target) == nnSnapshot(source))
                let x = nnRandom([2, 4], seed: 9)
                #expect(target(x).toArray() == source(x).toArray())
                // A file for another architecture is rejected.
                #expect(throws: StateDictError.self) { try Sequential(Linear(4, 3)).load(from: path) }
            }
        }

        @Test func torchMLPLoadsAndReproducesTorchLogits() throws {
            let fixture = try nnGolden.get().mlp
            let model = nnTorchShapedMLP()
            try model.load(from: nnDataURL(fixture.file).path)
            let logits = noGrad { model(Tensor(fixture.input.values, shape: fixture.input.shape)) }
            #expect(logits.shape == fixture.logits.shape)
            let mismatch = nnMismatch(logits.toArray(), fixture.logits.values, relative: 1e-5, absolute: 1e-5)
            #expect(mismatch == nil, "\(mismatch ?? "")")
        }

        @Test func kindlingMLPFileHasTorchsKeysAndShapes() throws {
            let fixture = try nnGolden.get().mlp
            try nnWithTemporaryPath("mlp.safetensors") { path in
                try nnTorchShapedMLP().save(to: path)
                let saved = try loadSafetensors(from: path)
                #expect(Set(saved.keys) == Set(fixture.stateDict.map(\.name)))
                for entry in fixture.stateDict {
                    #expect(saved[entry.name]?.shape == entry.shape, "\(entry.name)")
                }
            }
        }
    }
}

extension NNTests {
    @Suite("Layers")
    struct LayerTests {
        @Test func linearComputesXWtPlusB() {
            let layer = Linear(3, 2)
            try! layer.load(stateDict: ["weight": Tensor([1, 2, 3, -1, 0, 1], shape: [2, 3]),
                                        "bias": Tensor([0.5, -0.5])])
            let y = layer(Tensor([1, 1, 1, 2, 0, -1], shape: [2, 3]))
            #expect(y.shape == [2, 2])
            #expect(y.toArray() == [6.5, -0.5, -0.5, -3.5])
            #expect(layer(Tensor.ones([4, 5, 3])).shape == [4, 5, 2], "batched input")
            let noBias = Linear(3, 2, bias: false)
            #expect(noBias.bias == nil)
            #expect(noBias.namedParameters().map(\.name) == ["weight"])
            #expect(noBias(Tensor.zeros([1, 3])).toArray() == [0, 0])
        }

        @Test func linearDefaultInitIsUniformWithinOneOverRootFanIn() {
            let layer = Linear(400, 300)
            #expect(layer.weight.shape == [300, 400] && layer.bias?.shape == [300])
            #expect(layer.weight.requiresGrad && layer.bias!.requiresGrad)
            let bound: Float = 1 / Float(400).squareRoot()
            let w = layer.weight.toArray()
            #expect(w.allSatisfy { Swift.abs($0) <= bound })
            #expect(w.map { Swift.abs($0) }.max()! > 0.99 * bound, "fills the range")
            let (mean, std) = nnMeanStd(w)
            #expect(Swift.abs(mean) < 0.01 * Double(bound))
            #expect(Swift.abs(std / (Double(bound) / 3.0.squareRoot()) - 1) < 0.02, "std of U(−b, b) is b/√3, got \(std)")
            // Roughly uniform: each quarter of the range holds about a quarter of the draws.
            var bins = [Int](repeating: 0, count: 4)
            for v in w { bins[Swift.min(3, Int((v + bound) / (2 * bound) * 4))] += 1 }
            #expect(bins.allSatisfy { Swift.abs(Double($0) / Double(w.count) - 0.25) < 0.01 }, "\(bins)")
            let b = layer.bias!.toArray()
            #expect(b.allSatisfy { Swift.abs($0) <= bound })
            #expect(Set(b).count > 290, "bias values are random")
        }

        @Test func conv2dShapesAndInit() {
            let conv = Conv2d(3, 8, kernelSize: 3, stride: 2, padding: 1)
            #expect(conv.weight.shape == [8, 3, 3, 3] && conv.bias?.shape == [8])
            #expect(conv(Tensor.ones([2, 3, 9, 9])).shape == [2, 8, 5, 5])
            #expect(Conv2d(3, 4, kernelSize: 5)(Tensor.ones([1, 3, 12, 10])).shape == [1, 4, 8, 6])
            #expect(Conv2d(1, 2, kernelSize: 3, bias: false).namedParameters().map(\.name) == ["weight"])

            let big = Conv2d(16, 64, kernelSize: 3)  // fan-in 144
            let bound: Float = 1 / 12
            let w = big.weight.toArray()
            #expect(w.allSatisfy { Swift.abs($0) <= bound })
            #expect(w.map { Swift.abs($0) }.max()! > 0.99 * bound)
            let (_, std) = nnMeanStd(w)
            #expect(Swift.abs(std / (Double(bound) / 3.0.squareRoot()) - 1) < 0.03, "\(std)")
            #expect(big.bias!.toArray().allSatisfy { Swift.abs($0) <= bound })
        }

        @Test func conv2dModuleMatchesTheTensorOp() {
            let conv = Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1)
            let x = nnRandom([1, 2, 5, 6], seed: 3)
            #expect(conv(x).toArray() == x.conv2d(conv.weight, bias: conv.bias, stride: 2, padding: 1).toArray())
        }

        @Test func flattenMergesTrailingAxes() {
            let x = Tensor.arange(0, 120).reshaped([2, 3, 4, 5])
            let flat = Flatten()(x)
            #expect(flat.shape == [2, 60])
            #expect(flat.toArray() == x.toArray())
            #expect(Flatten(startAxis: 2)(x).shape == [2, 3, 20])
            #expect(Flatten(startAxis: 0)(x).shape == [120])
            #expect(Flatten(startAxis: -2)(x).shape == [2, 3, 20])
            #expect(Flatten()(x.transposed(1, 3)).toArray() == x.transposed(1, 3).contiguous().toArray(),
                    "a non-contiguous input flattens in row-major order")
        }

        @Test func dropoutInTrainingZeroesAboutPAndScalesSurvivors() {
            let p: Float = 0.3
            let dropout = Dropout(p)
            let x = Tensor.ones([100_000], requiresGrad: true)
            let y = dropout(x)
            let values = y.toArray()
            let zeros = values.filter { $0 == 0 }.count
            #expect(Swift.abs(Double(zeros) / Double(values.count) - Double(p)) < 0.01, "\(zeros) zeroed")
            let scale = 1 / (1 - p)
            #expect(values.allSatisfy { $0 == 0 || Swift.abs($0 - scale) < 1e-6 }, "survivors scaled by 1/(1 − p)")
            // The gradient goes through the same mask.
            y.sum().backward()
            #expect(x.grad?.toArray() == values)
            // A fresh mask each call.
            #expect(dropout(Tensor.ones([1000])).toArray() != dropout(Tensor.ones([1000])).toArray())
        }

        @Test func dropoutIsIdentityInEvalAndAtZero() {
            let x = nnRandom([10, 10], seed: 4)
            let dropout = Dropout(0.5)
            dropout.eval()
            #expect(dropout(x).toArray() == x.toArray())
            dropout.train()
            #expect(dropout(x).toArray() != x.toArray())
            #expect(Dropout(0)(x).toArray() == x.toArray())
        }

        @Test func activationModulesMatchTheTensorOps() {
            let x = nnRandom([4, 7], seed: 5, scale: 3)
            #expect(ReLU()(x).toArray() == x.relu().toArray())
            #expect(Sigmoid()(x).toArray() == x.sigmoid().toArray())
            #expect(Tanh()(x).toArray() == x.tanh().toArray())
            #expect(GELU()(x).toArray() == x.gelu().toArray())
            #expect(Sequential(ReLU(), Tanh(), GELU(), Sigmoid())(x).toArray()
                    == x.relu().tanh().gelu().sigmoid().toArray())
            for layer in [ReLU(), Sigmoid(), Tanh(), GELU()] as [Module] {
                #expect(layer.parameterCount == 0)
            }
        }

        @Test func maxPool2dTakesWindowMaxima() {
            let x = Tensor.arange(0, 16).reshaped([1, 1, 4, 4])
            let pooled = MaxPool2d(2)(x)
            #expect(pooled.shape == [1, 1, 2, 2])
            #expect(pooled.toArray() == [5, 7, 13, 15])
            #expect(MaxPool2d(2).stride == 2)
            let overlapping = MaxPool2d(3, stride: 1)(x)
            #expect(overlapping.shape == [1, 1, 2, 2])
            #expect(overlapping.toArray() == [10, 11, 14, 15])
            let y = nnRandom([2, 3, 6, 6], seed: 6)
            #expect(MaxPool2d(2)(y).toArray() == y.maxPool2d(kernelSize: 2).toArray())
        }

        @Test func sequentialAppliesLayersInOrder() {
            let a = Linear(3, 4), b = Linear(4, 2)
            let x = nnRandom([5, 3], seed: 7)
            #expect(Sequential(a, ReLU(), b)(x).toArray() == b(a(x).relu()).toArray())
            #expect(Sequential([])(x).toArray() == x.toArray())
        }
    }
}

extension NNTests {
    @Suite("Init")
    struct InitTests {
        @Test func fans() {
            #expect(Init.fans([300, 400]) == (400, 300))
            #expect(Init.fans([8, 3, 5, 5]) == (75, 200))
            #expect(Init.fans([6, 4, 3]) == (12, 18))
        }

        @Test func fansNeedTwoAxes() async {
            await #expect(processExitsWith: .failure) {
                _ = Init.fans([5])
            }
        }

        /// Checks bounds, mean and standard deviation of a large draw.
        private func check(_ t: Tensor, shape: [Int], bound: Float? = nil, std expected: Double,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(t.shape == shape, sourceLocation: sourceLocation)
            let values = t.toArray()
            if let bound {
                #expect(values.allSatisfy { Swift.abs($0) <= bound }, "within ±\(bound)", sourceLocation: sourceLocation)
                #expect(values.map { Swift.abs($0) }.max()! > 0.99 * bound, "fills ±\(bound)",
                        sourceLocation: sourceLocation)
            }
            let (mean, std) = nnMeanStd(values)
            // The sample mean's standard error is σ/√n: allow five of them.
            #expect(Swift.abs(mean) < 5 * expected / Double(values.count).squareRoot(), "mean \(mean)",
                    sourceLocation: sourceLocation)
            // The sample standard deviation's relative standard error is at most
            // about 1/√(2n) (normal samples; uniform ones vary less): allow five.
            // A wrong fan or gain is off by far more (√2 for the gain alone).
            let tolerance = 5 / (2 * Double(values.count)).squareRoot()
            #expect(Swift.abs(std / expected - 1) < tolerance, "std \(std), expected \(expected) ± \(tolerance)",
                    sourceLocation: sourceLocation)
        }

        @Test func xavier() {
            let (fanIn, fanOut) = (500.0, 300.0)
            let bound = (6 / (fanIn + fanOut)).squareRoot()
            check(Init.xavierUniform([300, 500]), shape: [300, 500], bound: Float(bound), std: bound / 3.0.squareRoot())
            check(Init.xavierUniform([300, 500], gain: 2), shape: [300, 500], bound: Float(2 * bound),
                  std: 2 * bound / 3.0.squareRoot())
            let std = (2 / (fanIn + fanOut)).squareRoot()
            check(Init.xavierNormal([300, 500]), shape: [300, 500], std: std)
            check(Init.xavierNormal([300, 500], gain: 0.5), shape: [300, 500], std: 0.5 * std)
            // Convolution weights count the receptive field: fans 16·9 and 32·9.
            let convBound = (6 / (144.0 + 288.0)).squareRoot()
            check(Init.xavierUniform([32, 16, 3, 3]), shape: [32, 16, 3, 3], bound: Float(convBound),
                  std: convBound / 3.0.squareRoot())
        }

        @Test func kaiming() {
            let fanIn = 400.0
            let reluBound = (6 / fanIn).squareRoot()  // gain √2 · √(3 / fanIn)
            check(Init.kaimingUniform([300, 400]), shape: [300, 400], bound: Float(reluBound),
                  std: reluBound / 3.0.squareRoot())
            check(Init.kaimingNormal([300, 400]), shape: [300, 400], std: (2 / fanIn).squareRoot())
            // a = √5 (PyTorch's Linear default): bound 1/√fanIn.
            let a = Float(5).squareRoot()
            check(Init.kaimingUniform([300, 400], a: a), shape: [300, 400], bound: Float(1 / fanIn.squareRoot()),
                  std: 1 / (3 * fanIn).squareRoot())
            check(Init.kaimingNormal([300, 400], a: 1), shape: [300, 400], std: 1 / fanIn.squareRoot())
            let convFanIn = 16.0 * 9
            check(Init.kaimingNormal([64, 16, 3, 3]), shape: [64, 16, 3, 3], std: (2 / convFanIn).squareRoot())
        }
    }
}

extension NNTests {
    @Suite("Losses")
    struct LossTests {
        @Test func mseLossValueAndGradient() {
            let input = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
            let target = Tensor([0, 2, 5, 3], shape: [2, 2])
            let loss = mseLoss(input, target)
            #expect(loss.shape == [])
            #expect(loss.item() == 1.5, "(1 + 0 + 4 + 1) / 4")
            loss.backward()
            #expect(input.grad?.toArray() == [0.5, 0, -1, 0.5], "2(input − target)/N")
        }

        @Test(arguments: [(1 as UInt64, 5, 4), (2, 1, 7), (3, 16, 10), (4, 3, 1)])
        func crossEntropyEqualsNLLOfLogSoftmax(seed: UInt64, rows: Int, classes: Int) {
            var g = SeededGenerator(seed: seed)
            let targets = (0..<rows).map { _ in Int(g.next() % UInt64(classes)) }
            let values = nnRandom([rows, classes], seed: seed, scale: 3).toArray()
            let a = Tensor(values, shape: [rows, classes], requiresGrad: true)
            let b = Tensor(values, shape: [rows, classes], requiresGrad: true)
            let fused = crossEntropy(a, targets)
            let composed = nllLoss(b.logSoftmax(axis: 1), targets)
            #expect(fused.shape == [] && composed.shape == [])
            let valueMismatch = nnMismatch([fused.item()], [composed.item()], relative: 1e-5, absolute: 1e-6)
            #expect(valueMismatch == nil, "\(valueMismatch ?? "")")
            (fused * 2.5).backward()  // a non-unit upstream gradient
            (composed * 2.5).backward()
            let gradMismatch = nnMismatch(a.grad!.toArray(), b.grad!.toArray(), relative: 1e-5, absolute: 1e-6)
            #expect(gradMismatch == nil, "\(gradMismatch ?? "")")
            // Each row's gradient sums to zero: (softmax − onehot) · 2.5 / N.
            for row in a.grad!.sum(axis: 1).toArray() { #expect(Swift.abs(row) < 1e-5) }
        }

        @Test func crossEntropyOfNonContiguousLogits() {
            let base = nnRandom([4, 3], seed: 11)
            let logits = base.transposed(0, 1)  // [3, 4], a view
            let expected = nllLoss(logits.contiguous().logSoftmax(axis: 1), [0, 3, 1]).item()
            #expect(Swift.abs(crossEntropy(logits, [0, 3, 1]).item() - expected) < 1e-5)
        }

        @Test func crossEntropyWithHugeLogitsStaysFinite() {
            let logits = Tensor([1e4, 0, -1e4, -3e4, 3e4, 0, 1e30, -1e30, 0], shape: [3, 3], requiresGrad: true)
            let loss = crossEntropy(logits, [1, 0, 0])
            // Row losses: 1e4 − 0, 3e4 − (−3e4), 0.
            #expect(loss.item().isFinite)
            #expect(Swift.abs(loss.item() - (1e4 + 6e4 + 0) / 3) < 1)
            loss.backward()
            let grad = logits.grad!.toArray()
            #expect(grad.allSatisfy { $0.isFinite })
            let third: Float = 1 / 3
            let expected: [Float] = [third, -third, 0, -third, third, 0, 0, 0, 0]
            #expect(nnMismatch(grad, expected, relative: 1e-6, absolute: 1e-6) == nil, "\(grad)")
        }

        @Test func binaryCrossEntropyWithLogitsAtExtremesIsFinite() {
            let logits = Tensor([100, -100, 100, -100], requiresGrad: true)
            let targets = Tensor([1, 0, 0, 1])
            let loss = binaryCrossEntropyWithLogits(logits, targets)
            #expect(loss.item().isFinite)
            #expect(Swift.abs(loss.item() - 50) < 1e-4, "confident right twice, wrong by 100 twice: mean 50")
            loss.backward()
            let grad = logits.grad!.toArray()
            #expect(grad.allSatisfy { $0.isFinite })
            #expect(nnMismatch(grad, [0, 0, 0.25, -0.25], relative: 1e-6, absolute: 1e-7) == nil, "\(grad)")
        }

        @Test func binaryCrossEntropyWithLogitsMatchesTheFormula() {
            let x = nnRandom([3, 5], seed: 12, scale: 4).toArray()
            var g = SeededGenerator(seed: 13)
            let y = (0..<15).map { _ in g.nextUnitFloat() }
            let logits = Tensor(x, shape: [3, 5], requiresGrad: true)
            let targets = Tensor(y, shape: [3, 5], requiresGrad: true)
            let loss = binaryCrossEntropyWithLogits(logits, targets)
            // −[y·log σ(x) + (1 − y)·log(1 − σ(x))], in Double.
            var expected = 0.0
            var dx: [Float] = [], dy: [Float] = []
            for (xi, yi) in zip(x.map(Double.init), y.map(Double.init)) {
                let s = 1 / (1 + Foundation.exp(-xi))
                expected += -(yi * Foundation.log(s) + (1 - yi) * Foundation.log(1 - s))
                dx.append(Float((s - yi) / 15))
                dy.append(Float(-xi / 15))
            }
            expected /= 15
            #expect(nnMismatch([loss.item()], [Float(expected)], relative: 1e-5, absolute: 1e-6) == nil,
                    "\(loss.item()) vs \(expected)")
            loss.backward()
            #expect(nnMismatch(logits.grad!.toArray(), dx, relative: 1e-4, absolute: 1e-6) == nil)
            #expect(nnMismatch(targets.grad!.toArray(), dy, relative: 1e-4, absolute: 1e-6) == nil)
        }

        @Test func crossEntropyTargetOutOfRangeTraps() async {
            await #expect(processExitsWith: .failure) {
                _ = crossEntropy(Tensor.zeros([2, 3]), [0, 3])
            }
            await #expect(processExitsWith: .failure) {
                _ = crossEntropy(Tensor.zeros([2, 3]), [-1, 0])
            }
        }

        @Test func nllLossTargetOutOfRangeTraps() async {
            await #expect(processExitsWith: .failure) {
                _ = nllLoss(Tensor.zeros([2, 3]), [2, 3])
            }
        }
    }
}

extension NNTests {
    @Suite("Optimizers and schedulers")
    struct OptimizerTests {
        /// Every trajectory in golden_nn.json, in file order.
        static let trajectoryNames = [
            "sgd",
            "sgd_momentum",
            "sgd_nesterov",
            "sgd_momentum_weight_decay",
            "adam",
            "adam_weight_decay",
            "adamw",
            "sgd_momentum_bias_frozen_first_step",
            "adam_bias_frozen_first_step",
        ]

        @Test func goldenFileListsTheseTrajectories() throws {
            let file = try nnGolden.get()
            #expect(file.optimizers.map(\.name) == Self.trajectoryNames)
            #expect(file.optimizers.allSatisfy { $0.steps.count == 5 })
        }

        private static func makeOptimizer(_ c: NNOptimizerCase, _ parameters: [Tensor]) -> Optimizer {
            switch c.optimizer {
            case "SGD":
                return SGD(parameters: parameters, learningRate: c.lr, momentum: c.momentum ?? 0,
                           weightDecay: c.weightDecay ?? 0, nesterov: c.nesterov ?? false)
            case "Adam":
                return Adam(parameters: parameters, learningRate: c.lr, weightDecay: c.weightDecay ?? 0)
            case "AdamW":
                return AdamW(parameters: parameters, learningRate: c.lr, weightDecay: c.weightDecay ?? 0.01)
            default:
                fatalError("no optimizer \(c.optimizer)")
            }
        }

        @Test("trajectory matches PyTorch", arguments: trajectoryNames)
        func trajectoryMatchesPyTorch(_ name: String) throws {
            let file = try nnGolden.get()
            let c = try #require(file.optimizers.first { $0.name == name })
            let p = file.problem
            let x = Tensor(p.x.values, shape: p.x.shape), y = Tensor(p.y.values, shape: p.y.shape)
            let w = Tensor(p.w.values, shape: p.w.shape, requiresGrad: true)
            let b = Tensor(p.b.values, shape: p.b.shape, requiresGrad: true)
            let optimizer = Self.makeOptimizer(c, [w, b])
            for (i, expected) in c.steps.enumerated() {
                let step = i + 1
                optimizer.zeroGrad()
                let z = c.biasFrozenSteps.contains(step) ? x.matmul(w) : x.matmul(w) + b
                mseLoss(z.tanh(), y).backward()
                #expect((b.grad == nil) == c.biasFrozenSteps.contains(step))
                optimizer.step()
                #expect(optimizer.stepCount == step)
                let wMismatch = nnMismatch(w.toArray(), expected.w.values)
                let bMismatch = nnMismatch(b.toArray(), expected.b.values)
                #expect(wMismatch == nil, "\(name) step \(step), w: \(wMismatch ?? "")")
                #expect(bMismatch == nil, "\(name) step \(step), b: \(bMismatch ?? "")")
            }
        }

        @Test func parametersWithoutGradAreLeftUntouched() {
            let makers: [(String, ([Tensor]) -> Optimizer)] = [
                ("SGD", { SGD(parameters: $0, learningRate: 0.1, weightDecay: 0.1) }),
                ("SGD momentum", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true) }),
                ("Adam", { Adam(parameters: $0, learningRate: 0.1, weightDecay: 0.1) }),
                ("AdamW", { AdamW(parameters: $0, learningRate: 0.1, weightDecay: 0.1) }),
            ]
            for (label, make) in makers {
                let used = Tensor([1, -2, 3], requiresGrad: true)
                let unused = Tensor([4, 5], requiresGrad: true)
                let optimizer = make([used, unused])
                for _ in 0..<3 {
                    optimizer.zeroGrad()
                    (used * used).sum().backward()
                    optimizer.step()
                }
                #expect(unused.toArray() == [4, 5], "\(label)")
                #expect(unused.grad == nil, "\(label)")
                #expect(used.toArray() != [1, -2, 3], "\(label) updates the used parameter")
            }
        }

        @Test func zeroGradClearsTheOptimizersParameters() {
            let model = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
            let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1)
            model(nnRandom([4, 3], seed: 2)).sum().backward()
            #expect(optimizer.parameters.allSatisfy { $0.grad != nil })
            optimizer.zeroGrad()
            #expect(optimizer.parameters.allSatisfy { $0.grad == nil })
            let before = nnSnapshot(model)
            optimizer.step()  // no gradients: nothing moves
            #expect(nnSnapshot(model) == before)
            #expect(optimizer.stepCount == 1)
        }

        @Test func sgdStepIsMinusLearningRateTimesGradient() {
            let p = Tensor([1, 2, 3], requiresGrad: true)
            let optimizer = SGD(parameters: [p], learningRate: 0.5)
            (p * p).sum().backward()  // gradient 2p
            optimizer.step()
            #expect(p.toArray() == [0, 0, 0])
        }

        @Test("learning-rate schedule matches PyTorch", arguments: ["step_lr", "cosine_annealing"])
        func schedulerMatchesPyTorch(_ name: String) throws {
            let c = try #require(try nnGolden.get().schedulers.first { $0.name == name })
            let optimizer = SGD(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: c.lr)
            let scheduler: LRScheduler
            switch c.scheduler {
            case "StepLR": scheduler = StepLR(optimizer, stepSize: c.stepSize!, gamma: c.gamma!)
            case "CosineAnnealingLR": scheduler = CosineAnnealingLR(optimizer, totalEpochs: c.totalEpochs!, minimum: c.minimum!)
            default: Issue.record("unknown scheduler \(c.scheduler)"); return
            }
            var rates = [optimizer.learningRate]
            for _ in 1..<c.learningRates.count {
                optimizer.step()
                scheduler.step()
                rates.append(optimizer.learningRate)
            }
            let mismatch = nnMismatch(rates, c.learningRates, relative: 1e-5, absolute: 1e-7)
            #expect(mismatch == nil, "\(name): \(rates) vs \(c.learningRates): \(mismatch ?? "")")
        }

        @Test func cosineAnnealingStaysAtTheMinimumAfterTotalEpochs() {
            let optimizer = SGD(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: 1)
            let scheduler = CosineAnnealingLR(optimizer, totalEpochs: 4, minimum: 0.1)
            for _ in 0..<4 { scheduler.step() }
            #expect(Swift.abs(optimizer.learningRate - 0.1) < 1e-6)
            for _ in 0..<3 { scheduler.step() }
            #expect(Swift.abs(optimizer.learningRate - 0.1) < 1e-6)
            #expect(scheduler.epoch == 7)
        }
    }
}

extension NNTests {
    @Suite("Training")
    struct TrainingTests {
        /// Noisy XOR: four clusters around (±1, ±1), class 1 where the signs differ.
        @Test func tinyMLPLearnsXOR() throws {
            var g = SeededGenerator(seed: 2024)
            var points: [Float] = [], labels: [Int] = []
            for i in 0..<128 {
                let sx: Float = i % 2 == 0 ? 1 : -1, sy: Float = (i / 2) % 2 == 0 ? 1 : -1
                points += [sx + 0.25 * g.nextNormal(), sy + 0.25 * g.nextNormal()]
                labels.append(sx * sy > 0 ? 0 : 1)
            }
            let x = Tensor(points, shape: [128, 2])

            let model = Sequential(Linear(2, 16), Tanh(), Linear(16, 2))
            // A seeded initialization of our own: the global generator is shared
            // with tests running in parallel.
            var state: [String: Tensor] = [:]
            for (name, p) in model.namedParameters() {
                let fanIn = Float(name.hasPrefix("0.") ? 2 : 16)
                let bound = 1 / fanIn.squareRoot()
                state[name] = Tensor((0..<p.count).map { _ in bound * (2 * g.nextUnitFloat() - 1) }, shape: p.shape)
            }
            try model.load(stateDict: state)

            let optimizer = Adam(parameters: model.parameters(), learningRate: 0.05)
            var firstLoss: Float = 0, lastLoss: Float = 0
            for step in 0..<200 {
                optimizer.zeroGrad()
                let loss = crossEntropy(model(x), labels)
                loss.backward()
                optimizer.step()
                if step == 0 { firstLoss = loss.item() }
                lastLoss = loss.item()
            }
            let predictions = noGrad { model(x).argmax(axis: 1).toArray() }
            let correct = zip(predictions, labels).filter { Int($0) == $1 }.count
            let accuracy = Double(correct) / Double(labels.count)
            #expect(accuracy >= 0.95, "training accuracy \(accuracy), loss \(firstLoss) → \(lastLoss)")
            #expect(lastLoss < firstLoss / 4, "loss \(firstLoss) → \(lastLoss)")
        }
    }
}

// MARK: - Normalization

/// Standard normal numbers from a private generator, scaled and shifted.
private func normals(_ shape: [Int], seed: UInt64, scale: Float = 1, shift: Float = 0) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor((0..<elementCount(shape)).map { _ in g.nextNormal() * scale + shift }, shape: shape, requiresGrad: true)
}

@Suite("Batch norm and layer norm")
struct NormalizationTests {
    @Test func batchNormGradientsAreRight() {
        let x = normals([4, 3, 2, 2], seed: 1, scale: 2, shift: 1), g = normals([3], seed: 2, scale: 0.3, shift: 1)
        let b = normals([3], seed: 3, scale: 0.1)
        let report = gradcheck([x, g, b], epsilon: 1e-2, atol: 2e-2, rtol: 2e-2) {
            $0[0].batchNorm(runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
        }
        #expect(report.passed, "\(report)")
        // One node: the normalization with γ and β fused in, whose inputs are x, γ and β.
        let y = x.batchNorm(runningMean: nil, runningVar: nil, weight: g, bias: b, training: true)
        #expect(y.node?.op == "batchNorm" && y.node?.inputs.count == 3, "\(y.node?.op ?? "no node") with \(y.node?.inputs.count ?? 0) inputs")
        // Without γ and β the node's output is x̂ itself: mean 0, variance 1 per channel.
        let plain = x.batchNorm(runningMean: nil, runningVar: nil, training: true)
        #expect(plain.node?.inputs.count == 1)
        let channel0 = (0..<4).flatMap { n in (0..<4).map { plain.toArray()[n * 12 + $0] } }
        #expect(Swift.abs(channel0.reduce(0, +) / 16) < 1e-5)
    }

    @Test func layerNormGradientsAreRight() {
        let x = normals([2, 3, 4], seed: 4, scale: 2, shift: -1), g = normals([3, 4], seed: 5, scale: 0.3, shift: 1)
        let b = normals([3, 4], seed: 6, scale: 0.1)
        let report = gradcheck([x, g, b], epsilon: 1e-2, atol: 2e-2, rtol: 2e-2) { $0[0].layerNorm([3, 4], weight: $0[1], bias: $0[2]) }
        #expect(report.passed, "\(report)")
        // A strided input: the statistics follow the view, not the storage.
        let t = normals([4, 2], seed: 7).transposed()
        let viaCopy = t.contiguous().layerNorm([4]).toArray(), viaView = t.layerNorm([4]).toArray()
        #expect(viaCopy == viaView)
    }

    @Test func trainingUpdatesTheRunningStatisticsAndEvaluationUsesThem() {
        let x = Tensor([1, 2, 3, 4, 10, 20, 30, 40], shape: [4, 2])  // channel 0: 1, 3, 10, 30; channel 1: 2, 4, 20, 40
        let runningMean = Tensor.zeros([2]), runningVar = Tensor.ones([2])
        _ = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: true, momentum: 0.1)
        // Means 11 and 16.5; unbiased variances 526/3 and 931/3 (n − 1 = 3), as PyTorch keeps them.
        let mean: [Float] = [11, 16.5], variance: [Float] = [526.0 / 3, 931.0 / 3]
        for c in 0..<2 {
            #expect(Swift.abs(runningMean[c] - 0.1 * mean[c]) < 1e-4, "running mean \(runningMean.toArray())")
            #expect(Swift.abs(runningVar[c] - (0.9 + 0.1 * variance[c])) < 1e-3, "running var \(runningVar.toArray())")
        }
        // Evaluation: the running statistics, and nothing moves.
        let before = (runningMean.toArray(), runningVar.toArray())
        let y = x.batchNorm(runningMean: runningMean, runningVar: runningVar, training: false)
        #expect(runningMean.toArray() == before.0 && runningVar.toArray() == before.1)
        let expected = (x[0, 0] - runningMean[0]) / (runningVar[0] + 1e-5).squareRoot()
        #expect(Swift.abs(y[0, 0] - expected) < 1e-5)
    }

    @Test func aBatchOfOneCannotBeNormalizedInTraining() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.ones([1, 4]).batchNorm(runningMean: nil, runningVar: nil, training: true)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("batchNorm") && message.contains("more than one value per channel") && message.contains("[1, 4]"), "\(message)")
    }

    @Test func layerNormNamesAShapeThatDoesNotFit() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.ones([2, 3, 4]).layerNorm([3])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("layerNorm") && message.contains("[2, 3, 4]") && message.contains("[3]"), "\(message)")
    }
}

private struct BatchNormGolden: Decodable {
    let input: [Float]
    let eval_output: [Float]
    let train_output: [Float]
    let running_mean_after: [Float]
    let running_var_after: [Float]
    let num_batches_tracked_after: Int
    let keys: [String]
}

/// A CNN with batch norm and layer norm shaped as scripts/golden_bn.py's.
private func torchShapedCNN() -> Sequential {
    Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
               Flatten(), Linear(4 * 3 * 3, 5), LayerNorm([5]))
}

@Suite("Normalization layers")
struct NormalizationLayerTests {
    @Test func runningStatisticsAreBuffersNotParameters() throws {
        let model = Sequential(Conv2d(1, 2, kernelSize: 3), BatchNorm2d(2))
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "1.weight", "1.bias"])
        #expect(model.namedBuffers().map(\.name) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
        #expect(model.stateDict().keys.sorted() == ["0.bias", "0.weight", "1.bias", "1.num_batches_tracked",
                                                    "1.running_mean", "1.running_var", "1.weight"])
        // Training moves them; evaluation does not.
        let bn = model.layers[1] as! BatchNorm2d
        _ = model(Tensor.rand([3, 1, 5, 5]))
        #expect(bn.numBatchesTracked.tensor.item() == 1 && bn.runningMean.tensor.toArray() != [0, 0])
        model.eval()
        let before = bn.runningMean.tensor.toArray()
        _ = model(Tensor.rand([1, 1, 5, 5]))  // a batch of one is fine in evaluation
        #expect(bn.runningMean.tensor.toArray() == before && bn.numBatchesTracked.tensor.item() == 1)
        // A state dict without them does not load strictly, and says which.
        var partial = model.stateDict()
        partial["1.running_var"] = nil
        #expect(throws: StateDictError.self) { try model.load(stateDict: partial) }
        do { try model.load(stateDict: partial) } catch { #expect("\(error)".contains("missing: 1.running_var"), "\(error)") }
    }

    @Test func loadsAPyTorchCNNAndAgreesWithIt() throws {
        let golden = try JSONDecoder().decode(BatchNormGolden.self, from: Data(contentsOf: nnDataURL("golden_bn.json")))
        let model = torchShapedCNN()
        #expect(model.stateDict().keys.sorted() == golden.keys)
        try model.load(from: nnDataURL("torch_cnn_bn.safetensors").path)  // num_batches_tracked is int64 there
        let x = Tensor(golden.input, shape: [2, 1, 6, 6])
        model.eval()
        let evaluated = noGrad { model(x) }.toArray()
        #expect(zip(evaluated, golden.eval_output).allSatisfy { Swift.abs($0 - $1) < 1e-4 }, "eval: \(evaluated) vs \(golden.eval_output)")
        model.train()
        let trained = noGrad { model(x) }.toArray()
        #expect(zip(trained, golden.train_output).allSatisfy { Swift.abs($0 - $1) < 1e-4 }, "train: \(trained) vs \(golden.train_output)")
        let bn = model.layers[1] as! BatchNorm2d
        #expect(zip(bn.runningMean.tensor.toArray(), golden.running_mean_after).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
        #expect(zip(bn.runningVar.tensor.toArray(), golden.running_var_after).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
        #expect(bn.numBatchesTracked.tensor.item() == Float(golden.num_batches_tracked_after))
    }

    @Test func aChannelMismatchNamesTheLayerAndTheShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm2d(16)(Tensor.ones([4, 8, 5, 5]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("BatchNorm2d(16)") && message.contains("[4, 8, 5, 5]") && message.contains("8 channels"), "\(message)")
    }

    @Test func aBatchOfOneInTrainingIsNamed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm1d(3)(Tensor.ones([1, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("BatchNorm1d(3)") && message.contains("more than one value per channel") && message.contains("[1, 3]"), "\(message)")
    }

    @Test func aConvWhoseChannelsDoNotMatchNamesTheLayerAndTheShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Conv2d(3, 16, kernelSize: 3)(Tensor.ones([2, 1, 28, 28]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Conv2d(3, 16, kernelSize: 3)") && message.contains("[2, 1, 28, 28]")
                && message.contains("[16, 3, 3, 3]") && message.contains("1 channels"), "\(message)")
    }

    @Test func aKernelLargerThanThePaddedInputNamesTheLayerAndTheShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Conv2d(1, 4, kernelSize: 5, padding: 1)(Tensor.ones([1, 1, 2, 2]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Conv2d(1, 4, kernelSize: 5)") && message.contains("does not fit")
                && message.contains("[1, 1, 2, 2]") && message.contains("[4, 1, 5, 5]") && message.contains("padding 1"), "\(message)")
    }
}

@Suite("Average pooling")
struct AveragePoolTests {
    @Test func handComputedWindows() {
        let x = Tensor((0..<16).map(Float.init), shape: [1, 1, 4, 4])
        #expect(x.avgPool2d(kernelSize: 2).toArray() == [2.5, 4.5, 10.5, 12.5])
        // Padding counts as zeros: the corner window [[0, 0], [0, 0]] ∪ x[0, 0] averages 0 over 4.
        #expect(x.avgPool2d(kernelSize: 2, stride: 2, padding: 1).toArray().first == 0)
        // Global average pooling: each plane's mean.
        #expect(x.adaptiveAvgPool2d((1, 1)).toArray() == [7.5] && AdaptiveAvgPool2d(1)(x).shape == [1, 1, 1, 1])
        // Adaptive bins of 5 rows into 3: [0, 2), [1, 4), [3, 5) — they overlap when the sizes do not divide.
        let rows = Tensor((0..<5).map(Float.init), shape: [1, 1, 5, 1]).adaptiveAvgPool2d((3, 1)).toArray()
        #expect(rows == [0.5, 2, 3.5], "\(rows)")
    }

    @Test func gradientsAreRight() {
        var generator = SeededGenerator(seed: 11)
        let x = Tensor((0..<(2 * 2 * 5 * 6)).map { _ in generator.nextNormal() }, shape: [2, 2, 5, 6], requiresGrad: true)
        #expect(gradcheck([x]) { $0[0].avgPool2d(kernelSize: 3, stride: 2, padding: 1) }.passed)
        #expect(gradcheck([x]) { $0[0].adaptiveAvgPool2d((3, 4)) }.passed)
    }

    @Test func anOutputLargerThanTheInputIsNamed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.ones([1, 1, 2, 2]).adaptiveAvgPool2d((3, 3))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("adaptiveAvgPool2d") && message.contains("2×2"), "\(message)")
    }
}
