import Foundation
import Testing
import Kindling

// Lesson 8 — modules (Lessons/08-modules.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson08           all of lesson 8
//     swift test --filter Exercise_8_5       one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 8.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones: the tests of 8.1
// and 8.2 build their models from plain tensors, because `Linear` needs the
// initialization of 8.3 and 8.4.

// MARK: - Small modules built from plain tensors

/// A module with one parameter and nothing else.
private final class L8Scale: Module {
    let factor: Tensor
    init(_ value: Float) {
        factor = Tensor([value], requiresGrad: true)
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { x * factor }
}

/// Every kind of stored property `children(named:in:)` must sort out.
private final class L8Zoo: Module {
    let first = L8Scale(2)               // a submodule
    let weight = Tensor.ones([2, 2])     // a parameter
    let absent: Tensor? = nil            // nothing
    let present: Tensor? = Tensor.zeros([3])
    let stages: [Module] = [L8Scale(1), L8Scale(3)]
    let count = 7                        // not a child
    let label = "zoo"                    // not a child
}

/// Two levels of nesting, a submodule declared before a parameter.
private final class L8Outer: Module {
    let inner = L8Zoo()
    let bias = Tensor.zeros([2])
}

/// Values from a fixed seed, uniform in [lo, hi).
private func l8Numbers(_ count: Int, seed: UInt64, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in lo + (hi - lo) * g.nextUnitFloat() }
}

@Suite("Lesson08", .serialized) struct Lesson08 {

    // MARK: 8.1 — what one stored property holds

    @Suite("8.1 children(named:in:)") struct Exercise_8_1 {
        @Test func tensorsAndModulesAreChildrenOtherValuesAreNot() {
            let t = Tensor.ones([2])
            let m = L8Scale(1)
            let asTensor = Module.children(named: "w", in: t)
            #expect(asTensor.count == 1 && asTensor[0].name == "w", "a Tensor property is one parameter, named after the property; got \(asTensor.map(\.name))")
            if case .parameter(let p)? = asTensor.first?.child { #expect(p === t, "the .parameter must be the very tensor, not a copy") } else { Issue.record("a Tensor is a .parameter") }
            let asModule = Module.children(named: "fc", in: m)
            if case .module(let sub)? = asModule.first?.child { #expect(sub === m && asModule.count == 1, "one .module child, the very module; got \(asModule.count) children") } else { Issue.record("a Module is a .module") }
            #expect(Module.children(named: "n", in: 7).isEmpty, "an Int is not a child")
            #expect(Module.children(named: "s", in: "text").isEmpty, "a String is not a child")
        }

        @Test func optionalsAndArrays() {
            let zoo = L8Zoo()
            let names = zoo.namedChildren().map(\.name)
            #expect(names == ["first", "weight", "present", "stages.0", "stages.1"],
                    "a nil optional is nothing, a present one counts, arrays give name.0, name.1, …; got \(names)")
        }
    }

    // MARK: 8.2 — every parameter, with dotted names, each once

    @Suite("8.2 namedParameters") struct Exercise_8_2 {
        @Test func dottedNamesOwnParametersFirst() {
            let names = L8Outer().namedParameters().map(\.name)
            #expect(names == ["bias", "inner.weight", "inner.present", "inner.first.factor",
                              "inner.stages.0.factor", "inner.stages.1.factor"],
                    "a module's own parameters first, then each submodule's in declaration order, names joined by dots; got \(names)\(names.first.map { $0 != "bias" && names.contains("bias") } == true ? " — submodule parameters came before the module's own: list its own parameters first" : "")")
        }

        @Test func aTensorHeldTwiceCountsOnce() {
            final class Tied: Module {
                let weight = Tensor.ones([2])
                let alias: Tensor
                override init() { alias = weight; super.init() }
            }
            let names = Tied().namedParameters().map(\.name)
            #expect(names == ["weight"], "one tensor held by two properties is listed once, under its first name; got \(names)")
        }

        @Test func sharedParametersCountOnce() {
            let shared = L8Scale(5)
            final class Twice: Module {
                let a: L8Scale, b: L8Scale
                init(_ s: L8Scale) { a = s; b = s; super.init() }
            }
            let model = Twice(shared)
            let named = model.namedParameters()
            #expect(named.map(\.name) == ["a.factor"], "one tensor reachable twice is listed once, under its first name; got \(named.map(\.name))")
            #expect(named.first?.parameter === shared.factor, "the listed parameter must be the shared tensor itself")
        }
    }

    // MARK: 8.3 — fan-in and fan-out

    @Suite("8.3 Init.fans") struct Exercise_8_3 {
        @Test func linearWeight() {
            let f = Init.fans([128, 784])
            #expect(f.fanIn == 784 && f.fanOut == 128,
                    "a Linear weight is [out, in]: fanIn 784, fanOut 128; got (\(f.fanIn), \(f.fanOut))\(f.fanIn == 128 && f.fanOut == 784 ? " — fanIn and fanOut are swapped: axis 1 is the input" : "")")
        }

        @Test func convolutionWeight() {
            let f = Init.fans([8, 3, 5, 5])
            #expect(f.fanIn == 75 && f.fanOut == 200,
                    "a Conv2d weight [8, 3, 5, 5]: each output reads 3·5·5 = 75 inputs, each input feeds 8·5·5 = 200 outputs; got (\(f.fanIn), \(f.fanOut))\(f.fanIn == 3 && f.fanOut == 8 ? " — multiply both by the receptive field, the product of the sizes after the first two" : "")")
        }
    }

    // MARK: 8.4 — Kaiming-uniform initialization

    @Suite("8.4 Init.kaimingUniform") struct Exercise_8_4 {
        @Test func reluBound() {
            let w = Init.kaimingUniform([200, 300])  // a = 0: bound √(6 / 300)
            let bound = (6 / Float(300)).squareRoot()
            let values = w.toArray()
            let largest = values.map(Swift.abs).max() ?? 0
            #expect(w.shape == [200, 300])
            let cause = largest > bound && largest <= (6 / Float(200)).squareRoot() ? " — b was computed from fanOut (200): use fanIn (300), axis 1"
                : largest <= bound / Float(2).squareRoot() * 1.001 ? " — the gain √(2 / (1 + a²)) = √2 is missing" : ""
            #expect(largest <= bound && largest > 0.98 * bound,
                    "values fill U(−b, b) with b = √2·√(3/fanIn) = \(bound); the largest |w| is \(largest)\(cause)")
            let mean = values.reduce(0, +) / Float(values.count)
            #expect(Swift.abs(mean) < 0.01 * bound, "centred on 0, got mean \(mean)")
        }

        @Test func pytorchsLinearDefault() {
            // a = √5 gives gain √(1/3), so the bound is 1/√fanIn.
            let w = Init.kaimingUniform([50, 400], a: Float(5).squareRoot())
            let largest = w.toArray().map(Swift.abs).max() ?? 0
            #expect(largest <= 0.05 * 1.0001 && largest > 0.049,
                    "with a = √5 the bound is 1/√400 = 0.05; the largest |w| is \(largest)")
        }
    }

    // MARK: 8.5 — Linear

    @Suite("8.5 Linear") struct Exercise_8_5 {
        @Test func computesXWTransposedPlusB() {
            let layer = Linear(3, 2)
            layer.weight.assign(Tensor([1, 2, 3, -1, 0, 1], shape: [2, 3]))
            layer.bias!.assign(Tensor([0.5, -0.5]))
            let y = layer(Tensor([1, 1, 1, 2, 0, -1], shape: [2, 3]))
            #expect(y.shape == [2, 2], "[2, 3] in, [2, 2] out; got \(y.shape)")
            #expect(y.toArray() == [6.5, -0.5, -0.5, -3.5],
                    "row 0: [1,1,1]·[1,2,3] + 0.5 = 6.5 and [1,1,1]·[−1,0,1] − 0.5 = −0.5; got \(y.toArray())\(y.toArray() == [6, 0, -1, -3] ? " — the bias was not added: if let bias { … }" : "")")
        }

        @Test func aSquareLayerUsesTheTranspose() {
            let layer = Linear(2, 2, bias: false)
            layer.weight.assign(Tensor([1, 2, 3, 4], shape: [2, 2]))
            let y = layer(Tensor([1, 0], shape: [1, 2])).toArray()
            #expect(y == [1, 3], "x·Wᵀ for x = [1, 0] is W's first column, [1, 3]; got \(y)\(y == [1, 2] ? " — that is x·W: multiply by weight.transposed()" : "")")
        }

        @Test func batchesNoBiasAndGradients() {
            #expect(Linear(3, 2)(Tensor.ones([4, 5, 3])).shape == [4, 5, 2], "leading axes are batch axes")
            let plain = Linear(3, 2, bias: false)
            #expect(plain(Tensor.zeros([1, 3])).toArray() == [0, 0], "without a bias, 0 maps to 0")
            let layer = Linear(2, 1)
            layer(Tensor([1, 2, 3, 4], shape: [2, 2])).sum().backward()
            #expect(layer.weight.grad?.toArray() == [4, 6], "∂Σy/∂W = Σ over the batch of x = [4, 6]; got \(layer.weight.grad?.toArray() ?? [])")
            #expect(layer.bias?.grad?.toArray() == [2], "∂Σy/∂b = batch size = 2; got \(layer.bias?.grad?.toArray() ?? [])\(layer.bias?.grad == nil ? " — the bias was not added, so no gradient reached it" : "")")
        }
    }

    // MARK: 8.6 — Sequential

    @Suite("8.6 Sequential") struct Exercise_8_6 {
        @Test func appliesLayersInOrder() {
            let first = Linear(3, 4), second = Linear(4, 2)
            let model = Sequential(first, ReLU(), second)
            let x = Tensor(l8Numbers(6, seed: 81), shape: [2, 3])
            let expected = second(first(x).relu()).toArray()
            #expect(model(x).toArray() == expected, "Sequential(a, relu, b)(x) is b(relu(a(x)))")
            #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        }

        @Test func orderMatters() {
            let model = Sequential(L8Scale(3), ReLU())  // relu(3x)
            let reversed = Sequential(ReLU(), L8Scale(-1))  // −relu(x)
            #expect(model(Tensor([-1, 2])).toArray() == [0, 6], "got \(model(Tensor([-1, 2])).toArray())")
            #expect(reversed(Tensor([-1, 2])).toArray() == [0, -2], "Sequential(ReLU(), ·(−1)) is −relu(x) = [0, −2], got \(reversed(Tensor([-1, 2])).toArray()) — the layers run first to last")
        }

        @Test func eachLayerIsCalledSoItsScopeIsRecorded() {
            let model = Sequential(Linear(3, 2), Tanh())
            let y = model(Tensor.ones([1, 3], requiresGrad: true))
            let path = y.node?.scope?.path.map(\.typeName) ?? []
            #expect(path == ["Sequential", "Tanh"],
                    "the tanh was recorded inside Sequential › Tanh, got \(path) — call each layer as layer(y), not layer.forward(y): only the call records the layer's module scope")
        }
    }

    // MARK: 8.7 — Dropout

    @Suite("8.7 Dropout") struct Exercise_8_7 {
        @Test func zeroesAFractionAndScalesTheRest() {
            let x = Tensor.ones([100, 100])
            let y = Dropout(0.25)(x).toArray()
            let zeros = y.filter { $0 == 0 }.count
            #expect(zeros > 2_250 && zeros < 2_750, "about 25% of 10,000 elements should be zeroed; got \(zeros)")
            #expect(y.allSatisfy { $0 == 0 || Swift.abs($0 - 4 / 3) < 1e-6 },
                    "the kept elements are scaled by 1/(1 − p) = 4/3 so the expected value stays 1; got \(Set(y.filter { $0 != 0 }).sorted().prefix(3))")
        }

        @Test func evalModeIsTheIdentity() {
            let layer = Dropout(0.5)
            layer.eval()
            let x = Tensor(l8Numbers(20, seed: 82))
            #expect(layer(x).toArray() == x.toArray(), "in evaluation mode dropout changes nothing: return x unchanged when isTraining is false")
        }
    }

    // MARK: 8.8 — checking a state dict

    @Suite("8.8 stateDictProblems") struct Exercise_8_8 {
        @Test func aMatchingDictionaryHasNoProblems() throws {
            let source = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
            let target = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
            let problems = target.stateDictProblems(source.stateDict())
            #expect(problems.isEmpty, "same architecture, so no problems; got \(problems)")
            try target.load(stateDict: source.stateDict())
            let x = Tensor(l8Numbers(6, seed: 83), shape: [2, 3])
            #expect(target(x).toArray() == source(x).toArray(), "after loading, both models compute the same")
        }

        @Test func missingUnexpectedAndWrongShapes() {
            let model = Sequential(Linear(3, 2))
            var state = model.stateDict()
            state["0.bias"] = nil
            state["0.weight"] = Tensor.ones([3, 2])
            state["extra"] = Tensor.ones([1])
            let problems = model.stateDictProblems(state)
            #expect(problems == ["missing: 0.bias", "unexpected: extra", "0.weight: expected shape [2, 3], got [3, 2]"],
                    "got \(problems)\(problems.contains("0.weight: expected shape [3, 2], got [2, 3]") ? " — the two shapes are swapped: \"expected\" is the parameter's shape, \"got\" the dictionary's" : "")")
            #expect(model.stateDictProblems(state, strict: false) == ["0.weight: expected shape [2, 3], got [3, 2]"],
                    "without strict only shapes are checked; got \(model.stateDictProblems(state, strict: false))")
        }
    }

    // MARK: Milestone — a model made of modules learns XOR

    @Suite("Milestone: modules learn XOR") struct XOR {
        @Test func aTwoLayerNetworkFitsXOR() {
            let model = Sequential(Linear(2, 8), Tanh(), Linear(8, 1))
            // Fixed starting weights, drawn from the test's own generator, so
            // the run is the same whatever other tests draw at the same time.
            var g = SeededGenerator(seed: 8)
            for p in model.parameters() {
                p.assign(Tensor((0..<p.count).map { _ in 2 * g.nextUnitFloat() - 1 }, shape: p.shape))
            }
            let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
            let target = Tensor([0, 1, 1, 0], shape: [4, 1])
            var first: Float = 0, last: Float = 0
            for step in 0..<1000 {
                let diff = model(x) - target
                let loss = (diff * diff).mean()
                model.zeroGrad()
                loss.backward()
                noGrad {
                    for p in model.parameters() { p.addInPlace(p.grad!, scale: -0.2) }
                }
                if step == 0 { first = loss.item() }
                last = loss.item()
            }
            #expect(last < 0.01 && last < first / 10, "the loss should fall below 0.01: first \(first), last \(last)")
            let predictions = noGrad { model(x) }.toArray()
            for (p, t) in zip(predictions, [Float(0), 1, 1, 0]) {
                #expect(Swift.abs(p - t) < 0.2, "predictions \(predictions) should be close to [0, 1, 1, 0]")
            }
        }
    }
}
