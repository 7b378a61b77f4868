// `Module`: the unit models are built from (lesson 8). A module owns
// parameters (tensors that training adjusts) and submodules, and maps an input
// tensor to an output in `forward`. Parameters are found automatically by
// reflection over stored properties, as in mlx-swift — no registration calls:
//
//     final class MLP: Module {
//         let hidden = Linear(784, 128)
//         let output = Linear(128, 10)
//         override func forward(_ x: Tensor) -> Tensor { output(hidden(x).relu()) }
//     }
//     MLP().namedParameters().map(\.name)  // ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]

/// Something a module holds: a parameter or a submodule.
public enum ModuleChild {
    /// A trainable tensor.
    case parameter(Tensor)
    /// A nested module.
    case module(Module)
}

/// A tensor a module keeps but does not train, such as batch norm's running
/// statistics (PyTorch calls it a buffer). It is saved and loaded with the
/// parameters, under `name` (PyTorch's, e.g. `running_mean`) or else its
/// property's name, but it is no parameter: no optimizer sees it and no
/// gradient reaches it. The module that owns it updates it in place.
public final class Buffer {
    /// The values.
    public let tensor: Tensor
    /// The key in a state dict, when it is not the property's name.
    public let name: String?

    /// A buffer holding `tensor`.
    public init(_ tensor: Tensor, name: String? = nil) {
        self.tensor = tensor
        self.name = name
    }
}

/// One running module call: which module, inside which other call. Recorded
/// on each graph node so tools can group operations by module.
public final class ModuleScope: Sendable {
    /// The module's identity (compare with `ObjectIdentifier(module)`).
    public let module: ObjectIdentifier
    /// The module's type name, e.g. `"Linear"`.
    public let typeName: String
    /// The call this one happened inside, if any.
    public let parent: ModuleScope?

    init(_ module: Module, parent: ModuleScope?) {
        self.module = ObjectIdentifier(module)
        self.typeName = String(describing: type(of: module))
        self.parent = parent
    }

    /// The module call currently running in this task.
    @TaskLocal public static var current: ModuleScope?

    /// The chain of calls from the outermost to this one.
    public var path: [ModuleScope] {
        var chain: [ModuleScope] = []
        var s: ModuleScope? = self
        while let node = s { chain.append(node); s = node.parent }
        return chain.reversed()
    }
}

/// Errors from loading weights into a module.
public struct StateDictError: Error, CustomStringConvertible {
    /// What went wrong, naming the parameters involved.
    public let description: String
}

/// The base class of every layer and model.
open class Module {
    /// `true` in training mode (the default), `false` after `eval()`. Layers
    /// such as `Dropout` behave differently in the two modes.
    public private(set) var isTraining = true

    /// Creates a module in training mode.
    public init() {}

    /// The computation. Subclasses override it; call the module itself
    /// (`model(x)`) rather than `forward` directly.
    open func forward(_ x: Tensor) -> Tensor {
        fatalError("\(type(of: self)) must override forward(_:)")
    }

    /// Runs `forward`, noting for the autograd graph that its operations
    /// happen inside this module (the visualizer groups them by module).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        ModuleScope.$current.withValue(ModuleScope(self, parent: ModuleScope.current)) { forward(x) }
    }

    /// The parameters and submodules this module holds directly, by property
    /// name: every stored property (of this class and its superclasses) whose
    /// value is a `Tensor`, a `Module`, an optional of either, or an array of
    /// either (named `name.0`, `name.1`, …).
    open func namedChildren() -> [(name: String, child: ModuleChild)] {
        storedProperties().flatMap { Module.children(named: $0.name, in: $0.value) }
    }

    /// Every stored property of this object, superclass properties first.
    func storedProperties() -> [(name: String, value: Any)] {
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror, m.subjectType != Module.self {
            levels.append(m)
            mirror = m.superclassMirror
        }
        return levels.reversed().flatMap { level in
            level.children.compactMap { child in child.label.map { ($0, child.value) } }
        }
    }

    /// Every buffer of this module and its submodules, with dotted names
    /// (`"bn.running_mean"`), module by module as `namedModules()` lists them.
    public func namedBuffers() -> [(name: String, buffer: Tensor)] {
        namedModules().flatMap { entry in
            entry.module.storedProperties().compactMap { property -> (String, Tensor)? in
                guard let buffer = property.value as? Buffer else { return nil }
                return ((entry.name.isEmpty ? "" : entry.name + ".") + (buffer.name ?? property.name), buffer.tensor)
            }
        }
    }

    /// Interprets one stored property's value as parameters/submodules: a
    /// `Tensor` is a parameter named `name`, a `Module` a submodule named
    /// `name`; an array of either gives `name.0`, `name.1`, …; an optional
    /// holding one counts as what it holds (a `nil` one as nothing); any other
    /// value (a number, a string, a closure) is not a child.
    public static func children(named name: String, in value: Any) -> [(name: String, child: ModuleChild)] {
        // BEGIN EXERCISE 8.1 — what one stored property holds (Lessons/08-modules.md)
        fatalError("Exercise 8.1 is not done yet: what one stored property holds — see Lessons/08-modules.md")
        // END EXERCISE 8.1
    }

    /// Every parameter of this module and its submodules, with dotted names
    /// (`"layers.0.weight"`), in PyTorch's order: a module's own parameters
    /// first, then each submodule's, depth first, in declaration order. A
    /// tensor or module reachable twice (shared) is listed once, under the
    /// first name found.
    public func namedParameters() -> [(name: String, parameter: Tensor)] {
        // BEGIN EXERCISE 8.2 — every parameter, with dotted names, each once (Lessons/08-modules.md)
        fatalError("Exercise 8.2 is not done yet: every parameter, with dotted names, each once — see Lessons/08-modules.md")
        // END EXERCISE 8.2
    }

    /// Every parameter, in the order of `namedParameters()`.
    public func parameters() -> [Tensor] { namedParameters().map(\.parameter) }

    /// This module and every module inside it, with dotted names ("" for self).
    public func namedModules() -> [(name: String, module: Module)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Module)] = []
        var stack: [(String, Module)] = [("", self)]
        while let (name, module) = stack.popLast() {
            guard seen.insert(ObjectIdentifier(module)).inserted else { continue }
            result.append((name, module))
            let subs = module.namedChildren().compactMap { entry -> (String, Module)? in
                if case .module(let m) = entry.child { return (name.isEmpty ? entry.name : name + "." + entry.name, m) }
                return nil
            }
            stack.append(contentsOf: subs.reversed())
        }
        return result
    }

    /// Switches this module and all submodules to training mode.
    public func train() { setMode(training: true) }

    /// Switches this module and all submodules to evaluation mode.
    public func eval() { setMode(training: false) }

    private func setMode(training: Bool) {
        for (_, m) in namedModules() { m.isTraining = training }
    }

    /// Clears the gradient of every parameter.
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// The number of trainable numbers.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// The parameters and buffers by dotted name, sharing storage with the
    /// module (detached).
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.name, $0.parameter.detach()) } + namedBuffers().map { ($0.name, $0.buffer.detach()) },
                   uniquingKeysWith: { a, _ in a })
    }

    /// What stands in the way of loading `stateDict`, one line per problem,
    /// names in sorted order: `"missing: fc.bias"` for each parameter the
    /// dictionary lacks and `"unexpected: extra"` for each key that names no
    /// parameter (both only when `strict`), and
    /// `"fc.weight: expected shape [2, 3], got [3, 2]"` for each shape that
    /// differs (always). Empty when the dictionary can be loaded.
    public func stateDictProblems(_ stateDict: [String: Tensor], strict: Bool = true) -> [String] {
        // BEGIN EXERCISE 8.8 — check a state dict before loading it (Lessons/08-modules.md)
        fatalError("Exercise 8.8 is not done yet: check a state dict before loading it — see Lessons/08-modules.md")
        // END EXERCISE 8.8
    }

    /// Copies values from `stateDict` into this module's parameters, in place.
    /// With `strict`, every parameter must be present and no extra names may
    /// appear; shapes must always match. Throws a `StateDictError` naming the
    /// offending parameters (see `stateDictProblems`); nothing is changed when
    /// it throws.
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws {
        // Buffers are checked beside the parameters, by the same rules.
        let buffers = namedBuffers()
        let bufferNames = Set(buffers.map(\.name))
        var problems = stateDictProblems(stateDict.filter { !bufferNames.contains($0.key) }, strict: strict)
        for (name, buffer) in buffers.sorted(by: { $0.name < $1.name }) {
            if let given = stateDict[name] {
                if given.shape != buffer.shape { problems.append("\(name): expected shape \(buffer.shape), got \(given.shape)") }
            } else if strict {
                problems.append("missing: \(name)")
            }
        }
        guard problems.isEmpty else {
            throw StateDictError(description: "load(stateDict:): " + problems.joined(separator: "; "))
        }
        noGrad {
            for (name, p) in namedParameters() { if let t = stateDict[name] { p.assign(t) } }
            for (name, b) in buffers { if let t = stateDict[name] { b.assign(t) } }
        }
    }
}

extension Module: CustomStringConvertible {
    /// The module tree, one line per module, with parameter counts.
    public var description: String {
        namedModules().map { entry in
            let depth = entry.name.isEmpty ? 0 : entry.name.split(separator: ".").count
            let own = entry.module.namedChildren().reduce(0) { n, c in
                if case .parameter(let t) = c.child { return n + t.count }
                return n
            }
            let label = entry.name.isEmpty ? "\(type(of: entry.module))" : "(\(entry.name.split(separator: ".").last!)): \(type(of: entry.module))"
            return String(repeating: "  ", count: depth) + label + (own > 0 ? "  [\(own) parameters]" : "")
        }.joined(separator: "\n")
    }
}
