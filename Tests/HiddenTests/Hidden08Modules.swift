import Foundation
import Testing
import Kindling

// Hidden tests of lesson 8 (modules). The grader maps each test to its
// exercise by the suite name `Exercise_8_N`; each suite uses only its own
// exercise and earlier ones (so the tests of 8.1 and 8.2 build their models
// from plain tensors: `Linear` needs 8.3 and 8.4). They probe what the visible
// tests do not: typed arrays and optional modules, deep nesting, shared
// modules and cycles, 3-D and 1×1 kernels, the spread of an initialization,
// gradients through layers, module scopes for the visualizer, dropout's mask
// and mode switches, and every kind of state-dict problem at once.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one. Weights drawn by an initializer are never
// observed one by one (the lesson does not fix how they are drawn), only
// their bound and spread.

// MARK: - Modules made of plain tensors

/// One parameter.
private final class HScale: Module {
    let factor: Tensor
    init(_ value: Float = 1) {
        factor = Tensor([value], requiresGrad: true)
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { x * factor }
}

/// Adds a parameter of its own to x.
private final class HShift: Module {
    let amount: Tensor
    init(_ values: [Float]) {
        amount = Tensor(values, requiresGrad: true)
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { x + amount }
}

/// Optional modules, typed arrays, an empty array and values that are not children.
private final class HMixed: Module {
    let head: HScale? = HScale(2)
    let tail: HScale? = nil
    let blocks: [HScale] = [HScale(1), HScale(2), HScale(3)]
    let nothing: [Module] = []
    let table: [Tensor] = [Tensor.ones([1]), Tensor.zeros([2])]
    let rate: Float = 0.1
    let sizes = [3, 4]
    let activation: @Sendable (Float) -> Float = { $0 }
}

/// Superclass properties come before the subclass's.
private class HBase: Module {
    let early = Tensor.ones([1])
}

private final class HDerived: HBase {
    let late = Tensor.ones([2])
    let sub = HScale(1)
}

/// Three levels deep.
private final class HLevel2: Module {
    let w = Tensor.ones([2])
    let leaf = HScale(1)
}

private final class HLevel1: Module {
    let first = HLevel2()
    let b = Tensor.ones([1])
    let second = HLevel2()
}

private final class HRoot: Module {
    let body = HLevel1()
    let scale = Tensor.ones([1])
}

/// Holds whatever it is given, possibly shared or circular.
private final class HHolder: Module {
    let own: Tensor
    var others: [Module] = []
    init(_ name: Float) {
        own = Tensor([name])
        super.init()
    }
}

/// Values from a fixed seed, uniform in [lo, hi).
private func hNumbers(_ count: Int, seed: UInt64, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in lo + (hi - lo) * g.nextUnitFloat() }
}

private func names(_ m: Module) -> [String] { m.namedParameters().map(\.name) }

/// Superclass properties, then the subclass's: one tensor and arrays filled in by a test.
private final class HDerivedLists: HBase {
    let late = Tensor.ones([2])
    var modules: [Module] = []
    var tensors: [Tensor] = []
}

/// Parameters and submodules in arrays, filled in by a test (possibly shared or circular).
private final class HList: Module {
    var tensors: [Tensor] = []
    var modules: [Module] = []
}

/// The lesson's walk over a graph of `HList`s, worked out by the test: a module's own
/// tensors first, then each submodule depth first, every tensor and module once.
private func referenceWalk(_ root: HList) -> [(name: String, parameter: Tensor)] {
    var seenModules = Set<ObjectIdentifier>(), seenTensors = Set<ObjectIdentifier>()
    var out: [(name: String, parameter: Tensor)] = []
    func visit(_ m: HList, _ prefix: String) {
        guard seenModules.insert(ObjectIdentifier(m)).inserted else { return }
        for (i, t) in m.tensors.enumerated() where seenTensors.insert(ObjectIdentifier(t)).inserted {
            out.append((prefix + "tensors.\(i)", t))
        }
        for (i, c) in m.modules.enumerated() { visit(c as! HList, prefix + "modules.\(i).") }
    }
    visit(root, "")
    return out
}

/// `count` `HList`s linked at random (module i holds later modules, or any module when `cycles`),
/// with fresh tensors of drawn values and, when `sharedTensors`, tensors used in several places.
private func randomHLists(_ g: inout SeededGenerator, count: Int, cycles: Bool, sharedTensors: Bool) -> [HList] {
    let lists = (0..<count).map { _ in HList() }
    let pool = (0..<3).map { _ in Tensor([Float(Int.random(in: -99...99, using: &g))], requiresGrad: true) }
    for (i, list) in lists.enumerated() {
        list.tensors = (0..<Int.random(in: 0...3, using: &g)).map { _ in
            sharedTensors && Bool.random(using: &g) ? pool.randomElement(using: &g)!
                : Tensor([Float(Int.random(in: -99...99, using: &g))], requiresGrad: true)
        }
        let targets = cycles ? Array(0..<count) : Array((i + 1)..<count)
        if !targets.isEmpty {
            list.modules = (0..<Int.random(in: 0...3, using: &g)).map { _ in lists[targets.randomElement(using: &g)!] }
        }
    }
    return lists
}

/// Checks `namedParameters()` of `root` against the test's own walk, and observes the names and the values in order.
private func checkWalk(_ what: String, _ root: HList, sourceLocation: SourceLocation = #_sourceLocation) {
    let got = root.namedParameters()
    let expected = referenceWalk(root)
    let same = got.count == expected.count && zip(got, expected).allSatisfy { $0.name == $1.name && $0.parameter === $1.parameter }
    #expect(same, "\(what): expected \(expected.map(\.name)), got \(got.map(\.name)) — own parameters first, then submodules depth first in declaration order, each tensor and module once (the first name the walk meets), the module's own tensor objects",
            sourceLocation: sourceLocation)
    observe("\(what): the names of namedParameters()", got.map(\.name).joined(separator: ", "))
    observe("\(what): the values of namedParameters(), in order", got.flatMap { $0.parameter.toArray() })
    observe("\(what): whether namedParameters() returns the module's own tensor objects", same)
}

/// A drawn value for `Module.children(named:in:)` and what it holds, as "name: kind" lines, worked out by the test.
private func drawnProperty(_ name: String, _ g: inout SeededGenerator) -> (value: Any, expected: [String]) {
    let count = Int.random(in: 0...3, using: &g)
    switch Int.random(in: 0..<9, using: &g) {
    case 0: return (Tensor.ones([count + 1]), ["\(name): parameter"])
    case 1: return (HScale(), ["\(name): module"])
    case 2: return ((0..<count).map { _ in HScale() }, (0..<count).map { "\(name).\($0): module" })
    case 3: return ((0..<count).map { _ in Tensor.zeros([1]) }, (0..<count).map { "\(name).\($0): parameter" })
    case 4: return Bool.random(using: &g) ? (Optional(HScale()) as Any, ["\(name): module"]) : (Optional<HScale>.none as Any, [])
    case 5: return Bool.random(using: &g) ? (Optional(Tensor.ones([1])) as Any, ["\(name): parameter"]) : (Optional<Tensor>.none as Any, [])
    case 6: return (Float(count), [])
    case 7: return ((0..<count).map { $0 }, [])
    default: return ("text \(count)", [])
    }
}

/// "name: kind" for each child `Module.children(named:in:)` finds.
private func describe(_ children: [(name: String, child: ModuleChild)]) -> [String] {
    children.map { entry in
        switch entry.child {
        case .parameter: return "\(entry.name): parameter"
        case .module: return "\(entry.name): module"
        }
    }
}

/// Draws `count` stored properties, checks what `Module.children(named:in:)` finds in each
/// against the test's own answer, and observes the answers.
private func checkDrawnProperties(_ what: String, seed: UInt64, count: Int = 10, sourceLocation: SourceLocation = #_sourceLocation) {
    var g = SeededGenerator(seed: graded(seed))
    var found: [String] = []
    for k in 0..<count {
        let name = ["w", "layers", "head", "p\(k)", "table"].randomElement(using: &g)! + "\(k)"
        let (value, expected) = drawnProperty(name, &g)
        let got = describe(Module.children(named: name, in: value))
        #expect(got == expected, "\(what): a property \(name) holding \(type(of: value)) gives \(expected), got \(got) — a tensor or module counts (also inside a non-nil optional), arrays of them give name.0, name.1, …, nothing else is a child")
        found += got.isEmpty ? ["\(name): nothing"] : got
    }
    observe("\(what): what Module.children(named:in:) finds in \(count) drawn properties", found.joined(separator: ", "))
}

/// Checks `Init.fans(shape)` against the receptive-field rule and observes it.
private func checkDrawnFans(_ shape: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
    let field = shape.dropFirst(2).reduce(1, *)
    let f = Init.fans(shape)
    #expect(f.fanIn == shape[1] * field && f.fanOut == shape[0] * field,
            "\(shape): receptive field \(field), fanIn \(shape[1])·\(field) = \(shape[1] * field), fanOut \(shape[0])·\(field) = \(shape[0] * field); got (\(f.fanIn), \(f.fanOut))\(f.fanIn == shape[0] * field && shape[0] != shape[1] ? " — swapped: axis 1 is the input" : "")",
            sourceLocation: sourceLocation)
    observe("(fanIn, fanOut) of \(shape)", [f.fanIn, f.fanOut])
}

/// Runs `Init.kaimingUniform(shape, a:)` with draws from the grading seed, checks that its values stay
/// within the bound √(2/(1 + a²))·√(3/fanIn) and reach 99% of it (`shape` has ≥ 20,000 elements), and
/// observes its shape and largest |value| — not the draws themselves, which the lesson leaves open.
private func checkDrawnKaiming(_ shape: [Int], a: Float = 0, fanIn: Int, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
    let w = withSeed(graded(seed)) { Init.kaimingUniform(shape, a: a) }
    let bound = (2 / (1 + Double(a) * Double(a))).squareRoot() * (3 / Double(fanIn)).squareRoot()
    let s = spread(w)
    #expect(w.shape == shape && s.largest <= bound * 1.000001 && s.largest > 0.99 * bound,
            "kaimingUniform(\(shape), a: \(a)): fanIn \(fanIn), so the bound is √(2/(1 + a²))·√(3/fanIn) = \(bound); got shape \(w.shape) and values up to \(s.largest)",
            sourceLocation: sourceLocation)
    observe("the shape of kaimingUniform(\(shape), a: \(a))", w.shape)
    observe("the largest |w| of kaimingUniform(\(shape), a: \(a)) (within 1% under the bound)", s.largest, rtol: 0.0102)
}

/// x·Wᵀ + b for rows of `x`, in Double (W is [outputs, inputs]).
private func referenceLinear(_ x: [Float], _ w: [Float], _ b: [Float]?, inputs: Int, outputs: Int) -> [Float] {
    let rows = x.count / inputs
    return (0..<(rows * outputs)).map { k in
        let (r, o) = (k / outputs, k % outputs)
        let dot = (0..<inputs).reduce(0.0) { $0 + Double(x[r * inputs + $1]) * Double(w[o * inputs + $1]) }
        return Float(dot + Double(b?[o] ?? 0))
    }
}

/// Uniform numbers in [lo, hi) drawn from `g`.
private func draw(_ count: Int, _ lo: Float, _ hi: Float, _ g: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float.random(in: lo..<hi, using: &g) }
}

/// A model of 1–3 `Linear` layers of drawn sizes (some without a bias) with activations between
/// them, built by `make` as often as needed; and its parameters' names and shapes, worked out by the test.
private func drawnArchitecture(_ g: inout SeededGenerator) -> (make: () -> Sequential, parameters: [(name: String, shape: [Int])]) {
    let sizes = (0...Int.random(in: 1...3, using: &g)).map { _ in Int.random(in: 1...5, using: &g) }
    var plan: [(linear: (Int, Int, Bool)?, activation: Int)] = []
    var parameters: [(name: String, shape: [Int])] = []
    for i in 0..<(sizes.count - 1) {
        let bias = Int.random(in: 0..<4, using: &g) > 0
        parameters.append(("\(plan.count).weight", [sizes[i + 1], sizes[i]]))
        if bias { parameters.append(("\(plan.count).bias", [sizes[i + 1]])) }
        plan.append(((sizes[i], sizes[i + 1], bias), 0))
        if i < sizes.count - 2, Bool.random(using: &g) { plan.append((nil, Int.random(in: 1...2, using: &g))) }
    }
    let make = {
        Sequential(plan.map { step -> Module in
            if let (i, o, bias) = step.linear { return Linear(i, o, bias: bias) }
            return step.activation == 1 ? ReLU() : Tanh()
        })
    }
    return (make, parameters)
}

/// Gives every parameter of `model` drawn values.
private func fillParameters(_ model: Module, _ g: inout SeededGenerator) {
    noGrad {
        for p in model.parameters() { p.assign(Tensor(draw(p.count, -1, 1, &g), shape: p.shape)) }
    }
}

/// A state dict for `parameters` broken at random — names left out, shapes changed, unexpected keys
/// added — and the problems the lesson lists for it, worked out by the test.
private func brokenStateDict(_ parameters: [(name: String, shape: [Int])], strict: Bool, atLeastOne: Bool = false,
                             _ g: inout SeededGenerator) -> (dict: [String: Tensor], expected: [String]) {
    var dict: [String: Tensor] = [:]
    var missing: [String] = [], unexpected: [String] = [], shapes: [(String, String)] = []
    for (name, shape) in parameters {
        switch Int.random(in: 0..<4, using: &g) {
        case 0: missing.append(name)
        case 1:
            let other = Bool.random(using: &g) ? shape.map { $0 + 1 } : shape + [2]
            dict[name] = Tensor.zeros(other)
            shapes.append((name, "\(name): expected shape \(shape), got \(other)"))
        default: dict[name] = Tensor.zeros(shape)
        }
    }
    for key in ["extra", "9.weight", "0.scale", "head.bias"] where Int.random(in: 0..<3, using: &g) == 0 {
        dict[key] = Tensor.ones([1])
        unexpected.append(key)
    }
    if atLeastOne && missing.isEmpty && unexpected.isEmpty && shapes.isEmpty {
        dict["stray"] = Tensor.ones([1])
        unexpected.append("stray")
    }
    let expected = (strict ? missing.sorted().map { "missing: \($0)" } + unexpected.sorted().map { "unexpected: \($0)" } : [])
        + shapes.sorted { $0.0 < $1.0 }.map(\.1)
    return (dict, expected)
}

// MARK: - 8.1 children(named:in:)

@Suite struct Exercise_8_1 {
    @Test func optionalsHoldingModulesAndTypedArrays() {
        let names = HMixed().namedChildren().map(\.name)
        #expect(names == ["head", "blocks.0", "blocks.1", "blocks.2", "table.0", "table.1"],
                "a present optional module counts, a nil one does not, an array typed [HScale] is an array of modules, an empty array gives nothing, Float/[Int]/closures are not children; got \(names)")
        observe("the names of HMixed's children", names.joined(separator: ", "))

        // Drawn from the grading seed: other stored properties of every kind.
        checkDrawnProperties("optionals, typed arrays and plain values", seed: 8101)
    }

    @Test func kindsAreRight() {
        let mixed = HMixed()
        for (name, child) in mixed.namedChildren() {
            switch child {
            case .parameter: #expect(name.hasPrefix("table"), "\(name) should be a .module, not a .parameter")
            case .module: #expect(!name.hasPrefix("table"), "\(name) should be a .parameter, not a .module")
            }
        }
        observe("HMixed's children and their kinds", describe(mixed.namedChildren()).joined(separator: ", "))

        // Drawn from the grading seed: other stored properties, each a parameter, a module or nothing.
        checkDrawnProperties("the kind of each child", seed: 8102)
    }

    @Test func theVeryObjectsAreReturned() {
        let mixed = HMixed()
        let children = mixed.namedChildren()
        if case .module(let m)? = children.first(where: { $0.name == "blocks.1" })?.child {
            #expect(m === mixed.blocks[1], "blocks.1 must be the object stored in the array, not a copy")
        } else { Issue.record("blocks.1 is missing or not a module") }
        if case .parameter(let t)? = children.first(where: { $0.name == "table.1" })?.child {
            #expect(t === mixed.table[1], "table.1 must be the tensor stored in the array")
        } else { Issue.record("table.1 is missing or not a parameter") }
        var blocks1 = false, table1 = false
        if case .module(let m)? = children.first(where: { $0.name == "blocks.1" })?.child { blocks1 = m === mixed.blocks[1] }
        if case .parameter(let t)? = children.first(where: { $0.name == "table.1" })?.child { table1 = t === mixed.table[1] }
        observe("whether blocks.1 and table.1 are the very objects stored in HMixed", [blocks1 ? 1 : 0, table1 ? 1 : 0])
        observe("the names of HMixed's children", children.map(\.name).joined(separator: ", "))

        // Drawn from the grading seed: arrays of other lengths.
        var g = SeededGenerator(seed: graded(8103))
        let list = HList()
        list.tensors = (0..<Int.random(in: 0...4, using: &g)).map { _ in Tensor([Float(Int.random(in: -9...9, using: &g))]) }
        list.modules = (0..<Int.random(in: 1...4, using: &g)).map { _ in HList() }
        let found = list.namedChildren()
        let expectedNames = list.tensors.indices.map { "tensors.\($0)" } + list.modules.indices.map { "modules.\($0)" }
        let same = found.count == expectedNames.count && zip(found, list.tensors.map { $0 as AnyObject } + list.modules.map { $0 as AnyObject }).allSatisfy { entry, object in
            switch entry.child {
            case .parameter(let t): return t === object
            case .module(let m): return m === object
            }
        }
        #expect(found.map(\.name) == expectedNames && same,
                "an HList with \(list.tensors.count) tensors and \(list.modules.count) modules: expected children \(expectedNames), the very objects stored in the arrays; got \(found.map(\.name))")
        observe("the names of a drawn HList's children", found.map(\.name).joined(separator: ", "))
        observe("whether they are the very objects stored in its arrays", same)
        observe("the values of its tensors, as its children give them", found.flatMap { entry -> [Float] in
            if case .parameter(let t) = entry.child { return t.toArray() }
            return []
        })
    }

    @Test func valuesThatAreNotChildren() {
        let values: [Any] = [3, Float(2.5), "text", [1, 2, 3], [String: Tensor](), Optional<Tensor>.none as Any,
                             Optional<Module>.none as Any, [Tensor](), [Module]()]
        for value in values {
            let got = Module.children(named: "p", in: value)
            #expect(got.isEmpty, "\(type(of: value)) holds no parameter or module; got \(got.map(\.name))")
        }
        observe("the number of children found in each value that is not a child", values.map { Module.children(named: "p", in: $0).count })

        // Drawn from the grading seed: plain values mixed with parameters and modules.
        checkDrawnProperties("plain values among parameters and modules", seed: 8104, count: 14)
    }

    @Test func aPresentOptionalTensor() {
        let t = Tensor.ones([2])
        let got = Module.children(named: "maybe", in: Optional(t) as Any)
        #expect(got.map(\.name) == ["maybe"], "an optional holding a tensor counts as the tensor; got \(got.map(\.name))")
        observe("what Module.children(named:in:) finds in a present optional tensor", describe(got).joined(separator: ", "))

        // Drawn from the grading seed: optionals present or nil, among other properties.
        checkDrawnProperties("optionals present or nil", seed: 8105)
    }

    @Test func superclassPropertiesFirst() {
        let names = HDerived().namedChildren().map(\.name)
        #expect(names == ["early", "late", "sub"], "got \(names)")
        observe("the names of HDerived's children", names.joined(separator: ", "))

        // Drawn from the grading seed: a subclass holding arrays of other lengths.
        var g = SeededGenerator(seed: graded(8106))
        let derived = HDerivedLists()
        derived.modules = (0..<Int.random(in: 0...4, using: &g)).map { _ in HScale() }
        derived.tensors = (0..<Int.random(in: 0...4, using: &g)).map { _ in Tensor.ones([1]) }
        let got = derived.namedChildren().map(\.name)
        let expected = ["early", "late"] + derived.modules.indices.map { "modules.\($0)" } + derived.tensors.indices.map { "tensors.\($0)" }
        #expect(got == expected, "superclass properties first, then the subclass's in declaration order: expected \(expected), got \(got)")
        observe("the names of the children of a subclass with \(derived.modules.count) modules and \(derived.tensors.count) tensors", got.joined(separator: ", "))
    }
}

// MARK: - 8.2 namedParameters

@Suite struct Exercise_8_2 {
    @Test func threeLevelsOfDottedNames() {
        let got = names(HRoot())
        #expect(got == ["scale", "body.b", "body.first.w", "body.first.leaf.factor", "body.second.w", "body.second.leaf.factor"],
                "own parameters first, then submodules depth first in declaration order, each name the path of properties joined by dots; got \(got)")
        observe("the names of HRoot's parameters", got.joined(separator: ", "))

        // Drawn from the grading seed: other trees (submodules may be shared).
        var g = SeededGenerator(seed: graded(8201))
        let lists = randomHLists(&g, count: Int.random(in: 4...8, using: &g), cycles: false, sharedTensors: false)
        checkWalk("a drawn tree of \(lists.count) modules", lists[0])
    }

    @Test func aSharedModuleIsWalkedOnce() {
        let shared = HScale(4)
        let a = HHolder(1), b = HHolder(2)
        a.others = [shared, b]
        b.others = [shared]
        let got = names(a)
        #expect(got == ["own", "others.0.factor", "others.1.own"],
                "the shared module appears once, under the first name the walk meets (others.0); got \(got)")
        #expect(a.parameters().count == 3)
        observe("the names of the parameters of a module sharing a submodule", got.joined(separator: ", "))
        observe("the number of its parameters", a.parameters().count)

        // Drawn from the grading seed: graphs where several modules hold the same submodules.
        var g = SeededGenerator(seed: graded(8202))
        for trial in 0..<3 {
            let lists = randomHLists(&g, count: Int.random(in: 4...8, using: &g), cycles: false, sharedTensors: false)
            checkWalk("drawn graph \(trial) with shared submodules", lists[0])
        }
    }

    @Test func aSharedTensorIsListedOnce() {
        let t = Tensor.ones([3])
        let x = HHolder(0)
        let y = HShift([1])
        x.others = [y]
        final class Tied: Module {
            let p: Tensor, q: Tensor
            init(_ t: Tensor) { p = t; q = t; super.init() }
        }
        let tied = Tied(t)
        #expect(names(tied) == ["p"], "one tensor under two names is one parameter; got \(names(tied))")
        #expect(names(x) == ["own", "others.0.amount"])
        observe("the names of the parameters of a module holding one tensor as p and q", names(tied).joined(separator: ", "))
        observe("the names of the parameters of HHolder holding an HShift", names(x).joined(separator: ", "))

        // Drawn from the grading seed: graphs where the same tensors appear in several places.
        var g = SeededGenerator(seed: graded(8203))
        for trial in 0..<3 {
            let lists = randomHLists(&g, count: Int.random(in: 2...6, using: &g), cycles: false, sharedTensors: true)
            checkWalk("drawn graph \(trial) with shared tensors", lists[0])
        }
    }

    @Test func aCycleEnds() {
        let a = HHolder(1), b = HHolder(2)
        a.others = [b]
        b.others = [a]  // a → b → a: a walk that does not remember modules never stops
        let got = names(a)
        #expect(got == ["own", "others.0.own"], "each module once, even in a cycle; got \(got)")
        b.others = []  // break the cycle so both can be freed
        observe("the names of the parameters of two modules holding each other", got.joined(separator: ", "))

        // Drawn from the grading seed: graphs with cycles.
        var g = SeededGenerator(seed: graded(8204))
        for trial in 0..<3 {
            let lists = randomHLists(&g, count: Int.random(in: 2...6, using: &g), cycles: true, sharedTensors: Bool.random(using: &g))
            checkWalk("drawn graph \(trial) with cycles", lists[0])
            for list in lists { list.modules = [] }  // break the cycles so all can be freed
        }
    }

    @Test func noParameters() {
        #expect(names(Sequential()).isEmpty)
        #expect(names(Sequential(ReLU(), Tanh())).isEmpty, "activations have no parameters")
        observe("the number of parameters of Sequential() and Sequential(ReLU(), Tanh())", [names(Sequential()).count, names(Sequential(ReLU(), Tanh())).count])

        // Drawn from the grading seed: activations mixed with layers that have a parameter.
        var g = SeededGenerator(seed: graded(8205))
        let layers: [Module] = (0..<Int.random(in: 3...8, using: &g)).map { _ in
            switch Int.random(in: 0..<3, using: &g) {
            case 0: return ReLU()
            case 1: return Tanh()
            default: return HScale(Float(Int.random(in: -9...9, using: &g)))
            }
        }
        let model = Sequential(layers)
        let expected = layers.enumerated().compactMap { $0.element is HScale ? "\($0.offset).factor" : nil }
        let got = model.namedParameters()
        #expect(got.map(\.name) == expected, "activations have no parameters: a Sequential of \(layers.map { "\(type(of: $0))" }) has \(expected); got \(got.map(\.name))")
        observe("the names of the parameters of a drawn Sequential of activations and scales", got.map(\.name).joined(separator: ", "))
        observe("their values", got.flatMap { $0.parameter.toArray() })
    }

    @Test func parametersAreTheVeryTensors() {
        let root = HRoot()
        let byName = Dictionary(root.namedParameters().map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        #expect(byName.count == 6, "HRoot has 6 parameters; got \(byName.keys.sorted())")
        let same = byName["scale"] === root.scale && byName["body.first.w"] === root.body.first.w
            && byName["body.second.leaf.factor"] === root.body.second.leaf.factor
        #expect(same, "namedParameters must return the module's own tensor objects (an optimizer updates them in place), not copies")
        observe("the number of HRoot's parameters", byName.count)
        observe("whether HRoot's parameters are its own tensor objects", same)

        // Drawn from the grading seed: other graphs, every parameter the very tensor stored.
        var g = SeededGenerator(seed: graded(8206))
        let lists = randomHLists(&g, count: Int.random(in: 3...7, using: &g), cycles: false, sharedTensors: true)
        checkWalk("a drawn graph of \(lists.count) modules", lists[0])
    }
}

// MARK: - 8.3 Init.fans

@Suite struct Exercise_8_3 {
    @Test func notSwapped() {
        let f = Init.fans([10, 20])
        #expect(f.fanIn == 20 && f.fanOut == 10,
                "[out, in] = [10, 20]: fanIn 20, fanOut 10; got (\(f.fanIn), \(f.fanOut))\(f.fanIn == 10 ? " — swapped: axis 1 is the input" : "")")
        observe("(fanIn, fanOut) of [10, 20]", [f.fanIn, f.fanOut])

        // Drawn from the grading seed: other linear layers [out, in], out ≠ in.
        var g = SeededGenerator(seed: graded(8301))
        for _ in 0..<4 {
            let out = Int.random(in: 1...1000, using: &g)
            var inputs = Int.random(in: 1...1000, using: &g)
            if inputs == out { inputs += 1 }
            checkDrawnFans([out, inputs])
        }
    }

    @Test func conv1dAndConv3dKernels() {
        let f1 = Init.fans([16, 4, 3])
        #expect(f1.fanIn == 12 && f1.fanOut == 48, "[16, 4, 3]: fanIn 4·3, fanOut 16·3; got (\(f1.fanIn), \(f1.fanOut))")
        let f3 = Init.fans([2, 3, 2, 2, 2])
        #expect(f3.fanIn == 24 && f3.fanOut == 16, "[2, 3, 2, 2, 2]: receptive field 8; got (\(f3.fanIn), \(f3.fanOut))")
        observe("(fanIn, fanOut) of [16, 4, 3]", [f1.fanIn, f1.fanOut])
        observe("(fanIn, fanOut) of [2, 3, 2, 2, 2]", [f3.fanIn, f3.fanOut])

        // Drawn from the grading seed: other 1-D and 3-D kernels.
        var g = SeededGenerator(seed: graded(8302))
        for rank in [3, 5, 3, 5] {
            checkDrawnFans((0..<rank).map { _ in Int.random(in: 1...9, using: &g) })
        }
    }

    @Test func oneByOneKernelsAreLikeLinear() {
        let f = Init.fans([64, 32, 1, 1])
        #expect(f.fanIn == 32 && f.fanOut == 64, "a 1×1 convolution has receptive field 1; got (\(f.fanIn), \(f.fanOut))")
        observe("(fanIn, fanOut) of [64, 32, 1, 1]", [f.fanIn, f.fanOut])

        // Drawn from the grading seed: other 1×1 (and 1×1×1) kernels.
        var g = SeededGenerator(seed: graded(8303))
        for ones in [2, 3, 2] {
            checkDrawnFans([Int.random(in: 1...512, using: &g), Int.random(in: 1...512, using: &g)] + [Int](repeating: 1, count: ones))
        }
    }

    @Test func rectangularKernels() {
        let f = Init.fans([5, 2, 3, 7])
        #expect(f.fanIn == 42 && f.fanOut == 105,
                "[5, 2, 3, 7]: receptive field 3·7 = 21, fanIn 2·21, fanOut 5·21; got (\(f.fanIn), \(f.fanOut))")
        observe("(fanIn, fanOut) of [5, 2, 3, 7]", [f.fanIn, f.fanOut])

        // Drawn from the grading seed: other rectangular kernels.
        var g = SeededGenerator(seed: graded(8304))
        for _ in 0..<4 {
            checkDrawnFans((0..<4).map { _ in Int.random(in: 1...12, using: &g) })
        }
    }
}

// MARK: - 8.4 Init.kaimingUniform

/// Largest |value|, mean and standard deviation.
private func spread(_ t: Tensor) -> (largest: Double, mean: Double, std: Double) {
    let v = t.toArray().map(Double.init)
    let mean = v.reduce(0, +) / Double(v.count)
    let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
    return (v.map(Swift.abs).max() ?? 0, mean, variance.squareRoot())
}

@Suite struct Exercise_8_4 {
    @Test(arguments: [(Float(0), 6.0), (Float(1), 3.0), (Float(5).squareRoot(), 1.0)])
    func theBoundForEachSlope(a: Float, numerator: Double) {
        // bound = √(2/(1+a²))·√(3/fanIn) = √(numerator/fanIn).
        let w = Init.kaimingUniform([100, 500], a: a)
        let bound = (numerator / 500).squareRoot()
        let s = spread(w)
        #expect(w.shape == [100, 500])
        #expect(s.largest <= bound * 1.000001 && s.largest > 0.99 * bound,
                "a = \(a): the bound is √(2/(1 + a²))·√(3/fanIn) = \(bound); the largest |w| is \(s.largest)")
        observe("a = \(a): the shape of kaimingUniform([100, 500], a: \(a))", w.shape)
        observe("a = \(a): the largest |w| of kaimingUniform([100, 500], a: \(a)) (within 1% under the bound)", s.largest, rtol: 0.0102)

        // Drawn from the grading seed: another fanIn, with the same slope.
        var g = SeededGenerator(seed: graded(8400 + UInt64(numerator)))
        let fanIn = Int.random(in: 20...2000, using: &g)
        checkDrawnKaiming([(20_000 + fanIn - 1) / fanIn, fanIn], a: a, fanIn: fanIn, seed: 8410 + UInt64(numerator))
    }

    @Test func usesFanInNotFanOut() {
        let w = Init.kaimingUniform([10, 1000])
        let bound = (6.0 / 1000).squareRoot()
        let largest = spread(w).largest
        #expect(largest <= bound * 1.000001,
                "fanIn of [10, 1000] is 1000, so |w| ≤ √(6/1000) = \(bound); got values up to \(largest)\(largest > 0.5 ? " — that looks like fanOut (10)" : "")")
        observe("the largest |w| of kaimingUniform([10, 1000]) (at most the bound)", largest, atol: bound)

        // Drawn from the grading seed: another layer with few outputs and many inputs.
        var g = SeededGenerator(seed: graded(8402))
        let fanIn = Int.random(in: 3000...8000, using: &g), out = Int.random(in: 5...12, using: &g)
        checkDrawnKaiming([out, fanIn], fanIn: fanIn, seed: 8412)
    }

    @Test func convolutionKernelsUseTheReceptiveField() {
        let w = Init.kaimingUniform([64, 2, 3, 3])  // fanIn 18
        let bound = (6.0 / 18).squareRoot()
        let largest = spread(w).largest
        #expect(largest <= bound * 1.000001 && largest > 0.95 * bound,
                "fanIn of [64, 2, 3, 3] is 2·3·3 = 18, bound √(6/18) = \(bound); the largest |w| is \(largest)")
        observe("the largest |w| of kaimingUniform([64, 2, 3, 3]) (within 5% under the bound)", largest, rtol: 0.053)

        // Drawn from the grading seed: another convolution kernel.
        var g = SeededGenerator(seed: graded(8403))
        let (inputs, kh, kw) = (Int.random(in: 1...8, using: &g), Int.random(in: 1...5, using: &g), Int.random(in: 1...5, using: &g))
        let fanIn = inputs * kh * kw
        checkDrawnKaiming([(20_000 + fanIn - 1) / fanIn, inputs, kh, kw], fanIn: fanIn, seed: 8413)
    }

    @Test func uniformAndCentred() {
        let w = Init.kaimingUniform([300, 300])
        let bound = (6.0 / 300).squareRoot()
        let s = spread(w)
        #expect(Swift.abs(s.mean) < 0.01 * bound, "U(−b, b) has mean 0; got \(s.mean) with b = \(bound)")
        let expectedStd = bound / 3.0.squareRoot()  // = √(2/fanIn), He's rule
        #expect(Swift.abs(s.std - expectedStd) < 0.02 * expectedStd,
                "U(−b, b) has standard deviation b/√3 = √(2/fanIn) = \(expectedStd); got \(s.std)")
        observe("the mean of kaimingUniform([300, 300]) (within 1% of the bound from 0)", s.mean, atol: 0.02 * bound)
        observe("the standard deviation of kaimingUniform([300, 300]) (within 2% of √(2/fanIn))", s.std, atol: 0.04 * expectedStd)

        // Drawn from the grading seed: another fanIn, 160,000 values.
        var g = SeededGenerator(seed: graded(8404))
        let fanIn = Int.random(in: 100...800, using: &g)
        let shape = [(160_000 + fanIn - 1) / fanIn, fanIn]
        checkDrawnKaiming(shape, fanIn: fanIn, seed: 8414)
        let drawn = spread(withSeed(graded(8415)) { Init.kaimingUniform(shape) })
        let (b, std) = ((6.0 / Double(fanIn)).squareRoot(), (2.0 / Double(fanIn)).squareRoot())
        #expect(Swift.abs(drawn.mean) < 0.01 * b && Swift.abs(drawn.std - std) < 0.02 * std,
                "kaimingUniform(\(shape)): U(−b, b) with b = \(b) has mean 0 and standard deviation b/√3 = \(std); got \(drawn.mean) and \(drawn.std)")
        observe("the mean of kaimingUniform(\(shape)) (within 1% of the bound from 0)", drawn.mean, atol: 0.02 * b)
        observe("the standard deviation of kaimingUniform(\(shape)) (within 2% of √(2/fanIn))", drawn.std, atol: 0.04 * std)
    }
}

// MARK: - 8.5 Linear.forward

@Suite struct Exercise_8_5 {
    private static func layer(_ w: [Float], _ b: [Float]?, inputs: Int, outputs: Int) -> Linear {
        let layer = Linear(inputs, outputs, bias: b != nil)
        layer.weight.assign(Tensor(w, shape: [outputs, inputs]))
        if let b { layer.bias!.assign(Tensor(b)) }
        return layer
    }

    @Test func usesTheTransposeOfTheWeight() {
        // A square, non-symmetric W: x·W and x·Wᵀ differ.
        let l = Self.layer([1, 2, 0, -1], [0, 0], inputs: 2, outputs: 2)
        let y = l(Tensor([3, 5], shape: [1, 2]))
        expectValues("Linear with W = [[1, 2], [0, −1]] applied to [3, 5]", y, [13, -5], shape: [1, 2],
                     hints: [MistakeHint(message: "that is x·W: the weight is stored [out, in], so y = x·Wᵀ") { a, _, _, _ in a == [3, 1] }])

        // Drawn from the grading seed: another square, non-symmetric W and input.
        var g = SeededGenerator(seed: graded(8501))
        let n = Int.random(in: 2...5, using: &g)
        var w = draw(n * n, -2, 2, &g)
        w[1] = w[n] + 1  // W[0, 1] ≠ W[1, 0]: not symmetric
        let x = draw(n, -3, 3, &g)
        let xTimesW = referenceLinear(x, transposedSquare(w, n), nil, inputs: n, outputs: n)
        expectValues("Linear with drawn W \(w) as [\(n), \(n)] applied to \(x)", Self.layer(w, [Float](repeating: 0, count: n), inputs: n, outputs: n)(Tensor(x, shape: [1, n])),
                     referenceLinear(x, w, nil, inputs: n, outputs: n), shape: [1, n],
                     hints: [MistakeHint(message: "that is x·W: the weight is stored [out, in], so y = x·Wᵀ") { a, _, _, _ in
                         zip(a, xTimesW).allSatisfy { Swift.abs($0 - $1) <= 1e-4 * Swift.max(1, Swift.abs($1)) } }])
    }

    @Test func theBiasIsAddedToEveryRow() {
        let l = Self.layer([1, 0, 0, 1], [10, -10], inputs: 2, outputs: 2)
        let y = l(Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]))
        expectValues("Linear(identity W, b = [10, −10]) on three rows", y, [11, -8, 13, -6, 15, -4], shape: [3, 2])

        // Drawn from the grading seed: another W, bias and number of rows.
        var g = SeededGenerator(seed: graded(8502))
        let (inputs, outputs, rows) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 2...6, using: &g))
        let (w, b, x) = (draw(outputs * inputs, -2, 2, &g), draw(outputs, -10, 10, &g), draw(rows * inputs, -3, 3, &g))
        expectValues("Linear(drawn W [\(outputs), \(inputs)], b = \(b)) on \(rows) rows", Self.layer(w, b, inputs: inputs, outputs: outputs)(Tensor(x, shape: [rows, inputs])),
                     referenceLinear(x, w, b, inputs: inputs, outputs: outputs), shape: [rows, outputs])
    }

    @Test func withoutABias() {
        let l = Self.layer([2, 3], nil, inputs: 2, outputs: 1)
        expectValues("Linear(W = [[2, 3]], no bias) on [1, 1]", l(Tensor([1, 1], shape: [1, 2])), [5], shape: [1, 1])

        // Drawn from the grading seed: another W and input, no bias.
        var g = SeededGenerator(seed: graded(8503))
        let (inputs, outputs, rows) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g))
        let (w, x) = (draw(outputs * inputs, -2, 2, &g), draw(rows * inputs, -3, 3, &g))
        let layer = Self.layer(w, nil, inputs: inputs, outputs: outputs)
        #expect(layer.bias == nil)
        expectValues("Linear(drawn W [\(outputs), \(inputs)], no bias) on \(rows) rows", layer(Tensor(x, shape: [rows, inputs])),
                     referenceLinear(x, w, nil, inputs: inputs, outputs: outputs), shape: [rows, outputs])
    }

    @Test func batchAxesAndAVector() {
        let l = Self.layer([1, 1, 1, 1, 2, 3], [0, 1], inputs: 3, outputs: 2)
        let y = l(Tensor((0..<12).map(Float.init), shape: [2, 2, 3]))
        expectValues("Linear on a [2, 2, 3] batch", y, [3, 9, 12, 27, 21, 45, 30, 63], shape: [2, 2, 2])
        expectValues("Linear on a single vector [3]", l(Tensor([1, 0, 2])), [3, 8], shape: [2])

        // Drawn from the grading seed: another layer, batch shape and vector.
        var g = SeededGenerator(seed: graded(8504))
        let (inputs, outputs) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g))
        let batch = [Int.random(in: 1...3, using: &g), Int.random(in: 1...3, using: &g)]
        let (w, b) = (draw(outputs * inputs, -2, 2, &g), draw(outputs, -2, 2, &g))
        let (x, v) = (draw(batch[0] * batch[1] * inputs, -3, 3, &g), draw(inputs, -3, 3, &g))
        let layer = Self.layer(w, b, inputs: inputs, outputs: outputs)
        expectValues("Linear [\(outputs), \(inputs)] on a drawn \(batch + [inputs]) batch", layer(Tensor(x, shape: batch + [inputs])),
                     referenceLinear(x, w, b, inputs: inputs, outputs: outputs), shape: batch + [outputs])
        expectValues("Linear [\(outputs), \(inputs)] on the single vector \(v)", layer(Tensor(v)),
                     referenceLinear(v, w, b, inputs: inputs, outputs: outputs), shape: [outputs])
    }

    @Test func aTransposedInput() {
        let l = Self.layer([1, 2, 3, 4], [0, 0], inputs: 2, outputs: 2)
        let x = Tensor([1, 3, 2, 4], shape: [2, 2]).transposed()  // [[1, 2], [3, 4]], not contiguous
        expectValues("Linear on a transposed input", l(x), [5, 11, 11, 25], shape: [2, 2])

        // Drawn from the grading seed: another layer and transposed input.
        var g = SeededGenerator(seed: graded(8505))
        let (inputs, outputs, rows) = (Int.random(in: 2...4, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 2...4, using: &g))
        let (w, b, stored) = (draw(outputs * inputs, -2, 2, &g), draw(outputs, -2, 2, &g), draw(inputs * rows, -3, 3, &g))
        let view = Tensor(stored, shape: [inputs, rows]).transposed()  // [rows, inputs], not contiguous
        let x2 = (0..<(rows * inputs)).map { stored[($0 % inputs) * rows + $0 / inputs] }
        expectValues("Linear [\(outputs), \(inputs)] on a drawn transposed [\(rows), \(inputs)] input", Self.layer(w, b, inputs: inputs, outputs: outputs)(view),
                     referenceLinear(x2, w, b, inputs: inputs, outputs: outputs), shape: [rows, outputs])
    }

    @Test func gradientsOfWeightBiasAndInput() {
        let l = Self.layer([1, -1, 2, 0.5, 0, 3], [0.1, 0.2], inputs: 3, outputs: 2)
        let x = Tensor([1, 2, 3, -1, 0, 2], shape: [2, 3], requiresGrad: true)
        let g = Tensor([1, 2, -1, 0.5], shape: [2, 2])
        (l(x) * g).sum().backward()
        // ∂/∂W = gᵀ·x, ∂/∂b = Σ rows of g, ∂/∂x = g·W.
        expectGradient(of: "the weight", l.weight, [2, 2, 1, 1.5, 4, 7])
        expectGradient(of: "the bias", l.bias!, [0, 2.5])
        expectGradient(of: "the input", x, [2, -1, 8, -0.75, 1, -0.5])

        // Drawn from the grading seed: another layer, input and output gradient.
        var r = SeededGenerator(seed: graded(8506))
        let (inputs, outputs, rows) = (Int.random(in: 1...4, using: &r), Int.random(in: 1...4, using: &r), Int.random(in: 1...4, using: &r))
        let (w, b, xv, gv) = (draw(outputs * inputs, -2, 2, &r), draw(outputs, -2, 2, &r), draw(rows * inputs, -3, 3, &r), draw(rows * outputs, -2, 2, &r))
        let layer = Self.layer(w, b, inputs: inputs, outputs: outputs)
        let x2 = Tensor(xv, shape: [rows, inputs], requiresGrad: true)
        (layer(x2) * Tensor(gv, shape: [rows, outputs])).sum().backward()
        expectGradient(of: "the drawn weight [\(outputs), \(inputs)] (gᵀ·x)", layer.weight,
                       referenceProduct(transposedRect(gv, rows: rows, cols: outputs), xv, m: outputs, k: rows, n: inputs))
        expectGradient(of: "the drawn bias [\(outputs)] (the column sums of g)", layer.bias!,
                       (0..<outputs).map { o in (0..<rows).reduce(Float(0)) { $0 + gv[$1 * outputs + o] } })
        expectGradient(of: "the drawn input [\(rows), \(inputs)] (g·W)", x2, referenceProduct(gv, w, m: rows, k: outputs, n: inputs))
    }
}

/// A square n×n matrix transposed, row-major.
private func transposedSquare(_ values: [Float], _ n: Int) -> [Float] { transposedRect(values, rows: n, cols: n) }

/// A rows×cols matrix transposed, row-major.
private func transposedRect(_ values: [Float], rows: Int, cols: Int) -> [Float] {
    (0..<cols).flatMap { j in (0..<rows).map { i in values[i * cols + j] } }
}

// MARK: - 8.6 Sequential.forward

@Suite struct Exercise_8_6 {
    @Test func firstLayerFirst() {
        let model = Sequential(HShift([1]), HScale(10), HShift([-3]))  // (x + 1)·10 − 3
        expectValues("Sequential(x + 1, ·10, − 3) on [0, 2]", model(Tensor([0, 2])), [7, 27], shape: [2],
                     hints: [MistakeHint(message: "the layers ran last to first: layers[0] must see the input") { a, _, _, _ in a == [-29, -9] }])

        // Drawn from the grading seed: other shifts, factor and inputs.
        var g = SeededGenerator(seed: graded(8601))
        let (s1, k, s2) = (Float(Int.random(in: -9...9, using: &g)), Float(Int.random(in: 2...9, using: &g)), Float(Int.random(in: -9...9, using: &g)))
        let x = draw(Int.random(in: 2...5, using: &g), -3, 3, &g)
        let reversed = x.map { ($0 + s2) * k + s1 }
        expectValues("Sequential(x + \(s1), ·\(k), + \(s2)) on \(x)", Sequential(HShift([s1]), HScale(k), HShift([s2]))(Tensor(x)),
                     x.map { ($0 + s1) * k + s2 }, shape: [x.count],
                     hints: [MistakeHint(message: "the layers ran last to first: layers[0] must see the input") { a, _, _, _ in
                         zip(a, reversed).allSatisfy { Swift.abs($0 - $1) <= 1e-4 * Swift.max(1, Swift.abs($1)) } }])
    }

    @Test func emptyIsTheIdentity() {
        let x = Tensor([1, -2, 3])
        #expect(Sequential()(x).toArray() == [1, -2, 3], "no layers: the input comes back unchanged")
        observe("Sequential() applied to [1, −2, 3]", Sequential()(x), atol: 0, rtol: 0)

        // Drawn from the grading seed: another input.
        var g = SeededGenerator(seed: graded(8602))
        let shape = [Int.random(in: 1...3, using: &g), Int.random(in: 1...4, using: &g)]
        let values = draw(shape[0] * shape[1], -5, 5, &g)
        let y = Sequential()(Tensor(values, shape: shape))
        #expect(y.shape == shape && y.toArray() == values, "no layers: the input comes back unchanged; got \(y.toArray()) of shape \(y.shape)")
        observe("Sequential() applied to drawn \(values) of shape \(shape)", y, atol: 0, rtol: 0)
    }

    @Test func nestedSequentials() {
        let model = Sequential(Sequential(HScale(2), HShift([1])), Sequential(ReLU()), HScale(-1))
        expectValues("−relu(2x + 1)", model(Tensor([-3, 0, 1])), [0, -1, -3], shape: [3])
        #expect(names(model) == ["0.0.factor", "0.1.amount", "2.factor"], "got \(names(model))")
        observe("the names of the parameters of Sequential(Sequential(·2, + 1), Sequential(relu), ·−1)", names(model).joined(separator: ", "))

        // Drawn from the grading seed: other factors and shift, maybe one more level of nesting.
        var g = SeededGenerator(seed: graded(8603))
        let (a, b, c) = (Float(Int.random(in: 1...4, using: &g)), Float(Int.random(in: -3...3, using: &g)), Float(Int.random(in: -4...4, using: &g)))
        let deeper = Bool.random(using: &g)
        let inner: Module = deeper ? Sequential(Sequential(HScale(a)), HShift([b])) : Sequential(HScale(a), HShift([b]))
        let nested = Sequential(inner, Sequential(ReLU()), HScale(c))
        let x = draw(Int.random(in: 2...5, using: &g), -3, 3, &g)
        expectValues("\(c)·relu(\(a)x + \(b)) as nested Sequentials, on \(x)", nested(Tensor(x)), x.map { c * Swift.max(a * $0 + b, 0) }, shape: [x.count])
        let expectedNames = deeper ? ["0.0.0.factor", "0.1.amount", "2.factor"] : ["0.0.factor", "0.1.amount", "2.factor"]
        #expect(names(nested) == expectedNames, "got \(names(nested))")
        observe("the names of the parameters of those nested Sequentials", names(nested).joined(separator: ", "))
    }

    @Test func layersAreCalledSoTheirScopesAreRecorded() {
        let model = Sequential(Linear(3, 2), Tanh())
        let y = model(Tensor.ones([1, 3], requiresGrad: true))
        let path = y.node?.scope?.path.map(\.typeName) ?? []
        #expect(path == ["Sequential", "Tanh"],
                "the tanh was recorded inside Sequential › Tanh, got \(path) — call each layer as `layer(x)`, not `layer.forward(x)`: the call records which module ran each op (the visualizer groups the graph by it)")
        observe("the module scope the last op of Sequential(Linear(3, 2), Tanh()) was recorded in", path.joined(separator: " › "))

        // Drawn from the grading seed: another last layer, after a drawn scale.
        var g = SeededGenerator(seed: graded(8604))
        let factor = Float.random(in: 0.5..<2, using: &g), shift = Float.random(in: -1..<1, using: &g)
        let last: Module = [ReLU(), Tanh(), HShift([shift]), HScale(-factor)].randomElement(using: &g)!
        let x = Tensor(draw(Int.random(in: 2...5, using: &g), -2, 2, &g), requiresGrad: true)
        let out = Sequential(HScale(factor), last)(x)
        let lastPath = out.node?.scope?.path.map(\.typeName) ?? []
        let expectedPath = ["Sequential", String(describing: type(of: last))]
        #expect(lastPath == expectedPath,
                "the last op was recorded inside \(expectedPath.joined(separator: " › ")), got \(lastPath) — call each layer as `layer(x)`, not `layer.forward(x)`")
        observe("the module scope the last op of Sequential(·\(factor), \(type(of: last))) was recorded in", lastPath.joined(separator: " › "))
        let xs = x.toArray().map { $0 * factor }
        let expectedOut: [Float] = switch last {
        case is ReLU: xs.map { Swift.max($0, 0) }
        case is Tanh: xs.map { Float(Foundation.tanh(Double($0))) }
        case is HShift: xs.map { $0 + shift }
        default: xs.map { $0 * -factor }
        }
        expectValues("Sequential(·\(factor), \(type(of: last))) on \(x.toArray())", out, expectedOut, shape: [xs.count])
    }

    @Test func gradientsReachEveryLayer() {
        let first = HScale(2), second = HShift([0.5, -0.5])
        let model = Sequential(first, Tanh(), second)
        let x = Tensor([0.1, -0.2])
        model(x).sum().backward()
        let t = x.toArray().map { Foundation.tanh(2 * Double($0)) }
        let expected = Float(zip(x.toArray(), t).reduce(0) { $0 + Double($1.0) * (1 - $1.1 * $1.1) })
        expectGradient(of: "the first layer's factor", first.factor, [expected])
        expectGradient(of: "the last layer's shift", second.amount, [1, 1])

        // Drawn from the grading seed: another factor, shift and input.
        var g = SeededGenerator(seed: graded(8605))
        let n = Int.random(in: 2...5, using: &g)
        let factor = Float.random(in: -2..<2, using: &g), xv = draw(n, -1, 1, &g)
        let scale = HScale(factor), shift = HShift(draw(n, -1, 1, &g))
        let weights = draw(n, -2, 2, &g)
        (Sequential(scale, Tanh(), shift)(Tensor(xv)) * Tensor(weights)).sum().backward()
        let dFactor = (0..<n).reduce(0.0) { total, i in
            let t = Foundation.tanh(Double(factor) * Double(xv[i]))
            return total + Double(weights[i]) * Double(xv[i]) * (1 - t * t)
        }
        expectGradient(of: "the first layer's factor \(factor) in Σ wᵢ·(tanh(factor·xᵢ) + shiftᵢ)", scale.factor, [Float(dFactor)])
        expectGradient(of: "the last layer's shift in Σ wᵢ·(tanh(factor·xᵢ) + shiftᵢ) with w = \(weights)", shift.amount, weights)
    }
}

// MARK: - 8.7 Dropout.forward

@Suite struct Exercise_8_7 {
    @Test(arguments: [Float(0.1), 0.5, 0.9])
    func theFractionZeroedAndTheScale(p: Float) {
        let y = Dropout(p)(Tensor.full([200, 100], 2)).toArray()
        let zeros = Double(y.filter { $0 == 0 }.count) / Double(y.count)
        #expect(Swift.abs(zeros - Double(p)) < 0.02, "Dropout(\(p)) should zero about \(p) of the elements; zeroed \(zeros)")
        let scaled = 2 / (1 - p)
        let bad = y.first { $0 != 0 && Swift.abs($0 - scaled) > 1e-4 * scaled }
        #expect(bad == nil, "kept elements are x/(1 − p) = \(scaled); found \(bad ?? 0)\(bad == 2 ? " — the survivors must be scaled by 1/(1 − p)" : bad.map { Swift.abs($0 - 2 / p) < 1e-3 } == true ? " — scale by 1/(1 − p), the probability of keeping, not 1/p" : "")")
        observe("p = \(p): the fraction of elements Dropout(\(p)) zeroed (within 0.02 of p)", zeros, atol: 0.04)
        let kept = y.filter { $0 != 0 }
        observe("p = \(p): the smallest and largest kept element of Dropout(\(p)) on 2s", [kept.min() ?? 0, kept.max() ?? 0], rtol: 2e-4)

        // Drawn from the grading seed: another p, on drawn inputs (statistics only: the draws are the generator's).
        var g = SeededGenerator(seed: graded(8701 + UInt64(p * 10)))
        let q = Float.random(in: 0.1..<0.9, using: &g)
        let xv = draw(20_000, 0.5, 2, &g)
        let out = withSeed(graded(8711 + UInt64(p * 10))) { Dropout(q)(Tensor(xv)) }.toArray()
        let fraction = Double(out.filter { $0 == 0 }.count) / Double(out.count)
        let ratios = zip(out, xv).filter { $0.0 != 0 }.map { $0.0 / $0.1 }
        let scale = 1 / (1 - q)
        #expect(Swift.abs(fraction - Double(q)) < 0.02 && ratios.allSatisfy { Swift.abs($0 - scale) <= 1e-4 * scale },
                "Dropout(\(q)) on 20,000 drawn values should zero about \(q) of them and scale the rest by 1/(1 − p) = \(scale); zeroed \(fraction), kept ones scaled by \(ratios.min() ?? 0)…\(ratios.max() ?? 0)")
        observe("p = \(p): the fraction of elements Dropout(\(q)) zeroed (within 0.02 of \(q))", fraction, atol: 0.04)
        observe("p = \(p): the smallest and largest factor Dropout(\(q)) scaled the kept elements by", [ratios.min() ?? 0, ratios.max() ?? 0], rtol: 2e-4)
    }

    @Test func theExpectedValueIsKept() {
        let y = Dropout(0.3)(Tensor.full([100_000], 1)).toArray()
        let mean = y.reduce(0, +) / Float(y.count)
        #expect(Swift.abs(mean - 1) < 0.02, "E[dropout(x)] = x: the mean of dropout on ones should be ≈ 1, got \(mean)")
        observe("the mean of Dropout(0.3) on 100,000 ones (within 0.02 of 1)", mean, atol: 0.04)

        // Drawn from the grading seed: another p and another constant.
        var g = SeededGenerator(seed: graded(8702))
        let q = Float.random(in: 0.1..<0.6, using: &g), c = Float.random(in: 0.5..<4, using: &g)
        let out = withSeed(graded(8712)) { Dropout(q)(Tensor.full([100_000], c)) }.toArray()
        let drawnMean = out.reduce(0, +) / Float(out.count)
        #expect(Swift.abs(drawnMean - c) < 0.02 * c, "E[dropout(x)] = x: the mean of Dropout(\(q)) on 100,000 copies of \(c) should be ≈ \(c), got \(drawnMean)")
        observe("the mean of Dropout(\(q)) on 100,000 copies of \(c) (within 2% of \(c))", drawnMean, atol: 0.04 * c)
    }

    @Test func theGradientIsTheSameMask() {
        let x = Tensor.full([50, 40], 3, requiresGrad: true)
        let y = Dropout(0.4)(x)
        y.sum().backward()
        let out = y.toArray(), grad = x.grad?.toArray() ?? []
        #expect(grad.count == out.count, "x must receive a gradient of its own shape")
        let mismatched = zip(out, grad).filter { Swift.abs($0 / 3 - $1) > 1e-5 }.count
        #expect(mismatched == 0, "∂y/∂x is the mask itself (0 or 1/(1 − p)), at the same places as in the output; \(mismatched) elements differ — multiply x by a mask so autograd records it")
        observe("the size of the gradient of x", grad.count)
        observe("the number of elements where the gradient differs from the output's mask", mismatched)

        // Drawn from the grading seed: another p, on drawn inputs.
        var g = SeededGenerator(seed: graded(8703))
        let q = Float.random(in: 0.1..<0.9, using: &g)
        let xv = draw(2_000, 0.5, 2, &g)
        let x2 = Tensor(xv, requiresGrad: true)
        let y2 = withSeed(graded(8713)) { Dropout(q)(x2) }
        y2.sum().backward()
        let (out2, grad2) = (y2.toArray(), x2.grad?.toArray() ?? [])
        let differ = grad2.count == out2.count ? zip(zip(out2, xv), grad2).filter { Swift.abs($0.0 / $0.1 - $1) > 1e-4 * $1 }.count : out2.count
        #expect(differ == 0, "Dropout(\(q)) on drawn x: ∂y/∂x is the mask itself (0 or 1/(1 − p) = \(1 / (1 - q))), at the same places as in the output; \(differ) elements differ")
        observe("the number of elements where the gradient of drawn x differs from Dropout(\(q))'s mask", differ)
        observe("the smallest and largest gradient through Dropout(\(q))", [grad2.min() ?? -1, grad2.max() ?? -1], atol: 1e-6, rtol: 2e-4)
    }

    @Test func evalAndPZeroAreTheIdentity() {
        let x = Tensor(hNumbers(30, seed: graded(871)), shape: [5, 6])
        let d = Dropout(0.7)
        d.eval()
        #expect(d(x).toArray() == x.toArray(), "in eval mode nothing is dropped or scaled")
        d.train()
        #expect(d(x).toArray().contains(0), "back in training mode, dropout drops again")
        #expect(Dropout(0)(x).toArray() == x.toArray(), "p = 0 drops nothing")
        d.eval()
        observe("Dropout(0.7) in eval mode on drawn x", d(x), atol: 0, rtol: 0)
        d.train()
        observe("whether Dropout(0.7) back in training mode drops again", d(x).toArray().contains(0))
        observe("Dropout(0) on drawn x", Dropout(0)(x), atol: 0, rtol: 0)
    }

    @Test func aFreshMaskEveryCall() {
        let x = Tensor.ones([1000])
        let d = Dropout(0.5)
        #expect(d(x).toArray() != d(x).toArray(), "each call draws a new mask")
        observe("whether two calls of Dropout(0.5) on 1,000 ones differ", d(x).toArray() != d(x).toArray())

        // Drawn from the grading seed: another p and input.
        var g = SeededGenerator(seed: graded(8705))
        let q = Float.random(in: 0.2..<0.8, using: &g), c = Float.random(in: 0.5..<2, using: &g)
        let (first, second) = withSeed(graded(8715)) {
            let drop = Dropout(q)
            return (drop(Tensor.full([1000], c)).toArray(), drop(Tensor.full([1000], c)).toArray())
        }
        #expect(first != second, "each call of Dropout(\(q)) draws a new mask")
        observe("whether two calls of Dropout(\(q)) on 1,000 copies of \(c) differ", first != second)
        observe("the value Dropout(\(q)) keeps copies of \(c) at (c/(1 − p))", first.max() ?? 0, rtol: 2e-4)
    }

    @Test func evalReachesDropoutInsideAModel() {
        let model = Sequential(HScale(1), Sequential(Dropout(0.5)))
        model.eval()
        let x = Tensor(hNumbers(40, seed: graded(872)))
        #expect(model(x).toArray() == x.toArray(), "model.eval() switches every submodule: dropout must read its own `isTraining`")
        observe("a model with dropout inside, in eval mode, on drawn x", model(x), atol: 0, rtol: 0)
    }

    @Test func aStridedInput() {
        let x = Tensor((1...12).map(Float.init), shape: [3, 4]).transposed()
        let y = Dropout(0.5)(x)
        #expect(y.shape == [4, 3])
        let kept = zip(y.toArray(), x.toArray()).filter { $0.0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0.0 - 2 * $0.1) < 1e-5 }, "each kept element is 2× the same element of x")
        observe("the shape of Dropout(0.5) on a transposed [4, 3] input", y.shape)
        observe("whether each kept element is 2× the same element of x", kept.allSatisfy { Swift.abs($0.0 - 2 * $0.1) < 1e-5 })

        // Drawn from the grading seed: another p and transposed input.
        var g = SeededGenerator(seed: graded(8707))
        let q = Float.random(in: 0.2..<0.8, using: &g)
        let (rows, cols) = (Int.random(in: 20...40, using: &g), Int.random(in: 20...40, using: &g))
        let view = Tensor(draw(rows * cols, 0.5, 2, &g), shape: [rows, cols]).transposed()
        let out = withSeed(graded(8717)) { Dropout(q)(view) }
        let ratios = zip(out.toArray(), view.toArray()).filter { $0.0 != 0 }.map { $0.0 / $0.1 }
        #expect(out.shape == [cols, rows] && ratios.allSatisfy { Swift.abs($0 - 1 / (1 - q)) <= 1e-4 / (1 - q) },
                "Dropout(\(q)) on a transposed [\(cols), \(rows)] view: the same shape, each kept element 1/(1 − p) = \(1 / (1 - q))× the same element of x; got shape \(out.shape), factors \(ratios.min() ?? 0)…\(ratios.max() ?? 0)")
        observe("the shape of Dropout(\(q)) on a transposed [\(cols), \(rows)] input", out.shape)
        observe("the smallest and largest factor Dropout(\(q)) scaled the kept elements of the view by", [ratios.min() ?? 0, ratios.max() ?? 0], rtol: 2e-4)
    }
}

// MARK: - 8.8 stateDictProblems

@Suite struct Exercise_8_8 {
    private static func model() -> Sequential { Sequential(Linear(4, 3), ReLU(), Linear(3, 2)) }

    @Test func everyKindOfProblemAtOnceSorted() {
        let m = Self.model()
        var state = m.stateDict()
        state["2.bias"] = nil
        state["0.bias"] = nil
        state["0.weight"] = Tensor.ones([4, 3])
        state["2.weight"] = Tensor.ones([2])
        state["zeta"] = Tensor.ones([1])
        state["alpha"] = Tensor.ones([1])
        let got = m.stateDictProblems(state)
        #expect(got == ["missing: 0.bias", "missing: 2.bias", "unexpected: alpha", "unexpected: zeta",
                        "0.weight: expected shape [3, 4], got [4, 3]", "2.weight: expected shape [2, 3], got [2]"],
                "one line per problem: missing names, then unexpected keys, then shapes, each group sorted; got \(got)")
        observe("the problems of a state dict with every kind of problem", got.joined(separator: "\n"))

        // Drawn from the grading seed: another model, broken in other ways.
        var g = SeededGenerator(seed: graded(8801))
        for trial in 0..<3 {
            let (make, parameters) = drawnArchitecture(&g)
            let (dict, expected) = brokenStateDict(parameters, strict: true, &g)
            let problems = make().stateDictProblems(dict)
            #expect(problems == expected, "drawn model \(trial) with parameters \(parameters.map { "\($0.name) \($0.shape)" }): one line per problem, missing names, then unexpected keys, then shapes, each group sorted; expected \(expected), got \(problems)")
            observe("the problems of drawn state dict \(trial)", problems.joined(separator: "\n"))
        }
    }

    @Test func notStrictStillChecksShapes() {
        let m = Self.model()
        var state = m.stateDict()
        state["2.bias"] = nil
        state["extra"] = Tensor.ones([1])
        #expect(m.stateDictProblems(state, strict: false).isEmpty, "without strict, missing and unexpected names are fine; got \(m.stateDictProblems(state, strict: false))")
        state["0.bias"] = Tensor.ones([4])
        #expect(m.stateDictProblems(state, strict: false) == ["0.bias: expected shape [3], got [4]"],
                "a wrong shape is always a problem; got \(m.stateDictProblems(state, strict: false))")
        observe("the problems, not strict, with 0.bias of shape [4]", m.stateDictProblems(state, strict: false).joined(separator: "\n"))

        // Drawn from the grading seed: another model, broken in other ways, not strict.
        var g = SeededGenerator(seed: graded(8802))
        for trial in 0..<3 {
            let (make, parameters) = drawnArchitecture(&g)
            let (dict, expected) = brokenStateDict(parameters, strict: false, &g)
            let problems = make().stateDictProblems(dict, strict: false)
            #expect(problems == expected, "drawn model \(trial) with parameters \(parameters.map { "\($0.name) \($0.shape)" }), not strict: only the wrong shapes, sorted by name; expected \(expected), got \(problems)")
            observe("the problems of drawn state dict \(trial), not strict", problems.joined(separator: "\n"))
        }
    }

    @Test func aMatchingDictionaryLoads() throws {
        let source = Self.model(), target = Self.model()
        #expect(target.stateDictProblems(source.stateDict()).isEmpty)
        try target.load(stateDict: source.stateDict())
        for ((n, a), (_, b)) in zip(source.namedParameters(), target.namedParameters()) {
            #expect(a.toArray() == b.toArray(), "\(n) was not copied")
        }
        observe("the number of problems loading a model's own state dict", target.stateDictProblems(source.stateDict()).count)
        observe("whether every parameter was copied", zip(source.parameters(), target.parameters()).allSatisfy { $0.toArray() == $1.toArray() })

        // Drawn from the grading seed: another model with drawn weights.
        var g = SeededGenerator(seed: graded(8803))
        let (make, _) = drawnArchitecture(&g)
        let (from, to) = (make(), make())
        fillParameters(from, &g)
        let problems = to.stateDictProblems(from.stateDict())
        #expect(problems.isEmpty, "a model's own state dict has no problems; got \(problems)")
        observe("the problems loading a drawn model's own state dict", problems.joined(separator: "\n"))
        try to.load(stateDict: from.stateDict())
        #expect(zip(from.parameters(), to.parameters()).allSatisfy { $0.toArray() == $1.toArray() }, "every parameter of the drawn model must be copied")
        observe("the parameters of the drawn model after loading, in order", to.parameters().flatMap { $0.toArray() })
    }

    @Test func nothingChangesWhenLoadingFails() {
        let m = Self.model()
        let before = m.parameters().map { $0.toArray() }
        var state = Self.model().stateDict()
        state["2.weight"] = Tensor.ones([3, 2])
        #expect(throws: StateDictError.self) { try m.load(stateDict: state) }
        #expect(m.parameters().map { $0.toArray() } == before, "a failed load must not change any parameter (check everything first)")
        observe("whether the parameters are unchanged after a failed load", m.parameters().map { $0.toArray() } == before)
        observe("the problems of a state dict with 2.weight of shape [3, 2]", m.stateDictProblems(state).joined(separator: "\n"))

        // Drawn from the grading seed: another model with drawn weights, and another broken state dict.
        var g = SeededGenerator(seed: graded(8804))
        let (make, parameters) = drawnArchitecture(&g)
        let model = make()
        fillParameters(model, &g)
        let kept = model.parameters().map { $0.toArray() }
        let (dict, expected) = brokenStateDict(parameters, strict: true, atLeastOne: true, &g)
        #expect(throws: StateDictError.self) { try model.load(stateDict: dict) }
        #expect(model.parameters().map { $0.toArray() } == kept && model.stateDictProblems(dict) == expected,
                "a failed load must not change any parameter (check everything first); problems expected \(expected), got \(model.stateDictProblems(dict))")
        observe("the problems of the drawn broken state dict", model.stateDictProblems(dict).joined(separator: "\n"))
        observe("the drawn model's parameters after the failed load, in order", model.parameters().flatMap { $0.toArray() })
    }

    @Test func anEmptyDictionary() {
        let got = Self.model().stateDictProblems([:])
        #expect(got == ["missing: 0.bias", "missing: 0.weight", "missing: 2.bias", "missing: 2.weight"], "got \(got)")
        #expect(Self.model().stateDictProblems([:], strict: false).isEmpty)
        observe("the problems of an empty state dict", got.joined(separator: "\n"))
        observe("the number of problems of an empty state dict, not strict", Self.model().stateDictProblems([:], strict: false).count)

        // Drawn from the grading seed: other models.
        var g = SeededGenerator(seed: graded(8805))
        for trial in 0..<3 {
            let (make, parameters) = drawnArchitecture(&g)
            let problems = make().stateDictProblems([:])
            let expected = parameters.map(\.name).sorted().map { "missing: \($0)" }
            #expect(problems == expected, "an empty state dict for drawn model \(trial): every parameter missing, sorted; expected \(expected), got \(problems)")
            observe("the problems of an empty state dict for drawn model \(trial)", problems.joined(separator: "\n"))
        }
    }

    @Test func aSafetensorsRoundTrip() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-h8-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = Self.model(), target = Self.model()
        try source.save(to: path)
        try target.load(from: path)
        let x = Tensor(hNumbers(8, seed: graded(881)), shape: [2, 4])
        #expect(target(x).toArray() == source(x).toArray(), "a model loaded from a file computes what the saved one did")
        #expect(throws: StateDictError.self) { try Sequential(Linear(4, 3)).load(from: path) }
        observe("whether the model loaded from a file computes what the saved one did", target(x).toArray() == source(x).toArray())

        // Drawn from the grading seed: another model with drawn weights, through another file.
        var g = SeededGenerator(seed: graded(8806))
        let (make, parameters) = drawnArchitecture(&g)
        let (saved, loaded) = (make(), make())
        fillParameters(saved, &g)
        let other = path + ".drawn"
        defer { try? FileManager.default.removeItem(atPath: other) }
        try saved.save(to: other)
        try loaded.load(from: other)
        let inputs = parameters[0].shape[1]
        let xv = draw(3 * inputs, -2, 2, &g)
        let out = loaded(Tensor(xv, shape: [3, inputs]))
        #expect(out.toArray() == saved(Tensor(xv, shape: [3, inputs])).toArray(), "a model loaded from a file computes what the saved one did")
        observe("the drawn model loaded from a file, on drawn x", out)
        observe("its parameters, in order", loaded.parameters().flatMap { $0.toArray() })
    }
}
