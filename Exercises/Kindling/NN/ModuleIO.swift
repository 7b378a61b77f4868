// Saving and loading a module's weights as a safetensors file — the format
// PyTorch and Hugging Face use, so weights move between Kindling and PyTorch
// (parameter names follow PyTorch's: "0.weight", "hidden.bias", …).

extension Module {
    /// Writes every parameter to a safetensors file at `path`.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try saveSafetensors(stateDict(), to: path, metadata: metadata)
    }

    /// Reads a safetensors file and copies its tensors into this module's
    /// parameters (see `load(stateDict:strict:)`).
    public func load(from path: String, strict: Bool = true) throws {
        try load(stateDict: loadSafetensors(from: path), strict: strict)
    }
}
