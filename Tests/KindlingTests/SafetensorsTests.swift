import Foundation
import Kindling
import Testing

// MARK: - Helpers

/// A fresh path for one test's file.
private func temporaryPath(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-st-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// The little-endian bytes of `value`.
private func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A hand-made safetensors file: header length, `header` JSON text, `data`.
private func writeSafetensors(header: String, data: [UInt8], to path: String, headerLength: UInt64? = nil) throws {
    let json = Array(header.utf8)
    let bytes = littleEndianBytes(headerLength ?? UInt64(json.count)) + json + data
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// `values` as little-endian F32 bytes.
private func f32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { littleEndianBytes($0.bitPattern) }
}

/// Expects loading `path` to throw a `SafetensorsError` naming the file and mentioning `words`.
private func expectLoadError(_ path: String, mentioning words: String...,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    let error = #expect(throws: SafetensorsError.self, sourceLocation: sourceLocation) {
        _ = try loadSafetensors(from: path)
    }
    guard let error else { return }
    #expect(error.description.contains(path), "\(error) should name the file", sourceLocation: sourceLocation)
    for word in words {
        #expect(error.description.contains(word), "\(error) should mention '\(word)'", sourceLocation: sourceLocation)
    }
}

@Suite struct SafetensorsTests {
    // MARK: Round trip

    @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
        let path = try temporaryPath("model.safetensors")
        let matrix = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let tensors: [String: Tensor] = [
            "fc.weight": matrix.transposed(),  // a non-contiguous view is saved in row-major order
            "fc.bias": Tensor([-0.5, 0.25, 1e-7]),
            "step": Tensor(scalar: 42),
            "empty": Tensor.zeros([0, 4]),
        ]
        try saveSafetensors(tensors, to: path, metadata: ["format": "pt", "epoch": "3"])

        let loaded = try loadSafetensors(from: path)
        #expect(Set(loaded.keys) == Set(tensors.keys))
        for (name, tensor) in tensors {
            let back = try #require(loaded[name])
            #expect(back.shape == tensor.shape, "\(name)")
            #expect(back.toArray() == tensor.toArray(), "\(name)")
        }
        #expect(loaded["fc.weight"]!.toArray() == [1, 4, 2, 5, 3, 6])
        #expect(try loadSafetensorsMetadata(from: path) == ["format": "pt", "epoch": "3"])
    }

    @Test func fileLayoutMatchesTheSpecification() throws {
        let path = try temporaryPath("layout.safetensors")
        try saveSafetensors(["b": Tensor([1, 2]), "a": Tensor([3])], to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(n % 8 == 0, "header padded to a multiple of 8")
        #expect(bytes[8] == UInt8(ascii: "{"))
        #expect(bytes.count == 8 + n + 12)
        #expect(Array(bytes[(8 + n)...]) == f32Bytes([3, 1, 2]), "data in sorted name order")
        #expect(try loadSafetensorsMetadata(from: path).isEmpty)
        let directory = (path as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(leftovers == ["layout.safetensors"], "no temporary file left behind")
    }

    @Test func saveReplacesAnExistingFile() throws {
        let path = try temporaryPath("replace.safetensors")
        try saveSafetensors(["w": Tensor([1, 2, 3])], to: path)
        try saveSafetensors(["w": Tensor([9])], to: path)
        #expect(try loadSafetensors(from: path)["w"]?.toArray() == [9])
    }

    // MARK: Other dtypes

    @Test func convertsHalfBFloatAndDoubleToFloat() throws {
        let path = try temporaryPath("dtypes.safetensors")
        // F16: 1, -2, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), -infinity.
        let half: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0xFC00]
        // BF16: the top 16 bits of 1.5 and -3.0.
        let bf16: [UInt16] = [0x3FC0, 0xC040]
        let doubles: [Double] = [0.1, -1e300]
        let data = half.flatMap(littleEndianBytes) + bf16.flatMap(littleEndianBytes)
            + doubles.flatMap { littleEndianBytes($0.bitPattern) }
        try writeSafetensors(header: """
            {"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},\
            "b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},\
            "d":{"dtype":"F64","shape":[2],"data_offsets":[16,32]}}
            """, data: data, to: path)
        let loaded = try loadSafetensors(from: path)
        #expect(loaded["h"]?.shape == [2, 3])
        #expect(loaded["h"]?.toArray() == [1, -2, 0.5, 65504, 0x1p-24, -.infinity])
        #expect(loaded["b"]?.toArray() == [1.5, -3])
        #expect(loaded["d"]?.toArray() == [Float(0.1), -.infinity])
    }

    // MARK: Malformed files

    @Test func missingFile() throws {
        let path = try temporaryPath("absent.safetensors")
        expectLoadError(path, mentioning: "no such file")
    }

    @Test func tooShortForHeaderLength() throws {
        let path = try temporaryPath("short.safetensors")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        expectLoadError(path, mentioning: "truncated")
    }

    @Test func headerLengthBeyondFile() throws {
        let path = try temporaryPath("length.safetensors")
        try writeSafetensors(header: "{}", data: [], to: path, headerLength: 1 << 40)
        expectLoadError(path, mentioning: "header length")
    }

    @Test func invalidJSON() throws {
        let path = try temporaryPath("json.safetensors")
        try writeSafetensors(header: #"{"w": {"dtype": "F32", "shape": [1]"#, data: [], to: path)
        expectLoadError(path, mentioning: "JSON")
    }

    @Test func unsupportedDtype() throws {
        let path = try temporaryPath("bool.safetensors")
        try writeSafetensors(header: #"{"w":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}"#,
                             data: [1], to: path)
        expectLoadError(path, mentioning: "unsupported dtype BOOL", "'w'")
    }

    @Test func integersLoadAsFloats() throws {
        // Batch norm's num_batches_tracked is an int64 scalar in a PyTorch state dict.
        let path = try temporaryPath("int.safetensors")
        try writeSafetensors(header: #"{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"k":{"dtype":"I32","shape":[2],"data_offsets":[8,16]}}"#,
                             data: [7, 1, 0, 0, 0, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 3, 0, 0, 0], to: path)
        let tensors = try loadSafetensors(from: path)
        #expect(tensors["n"]?.shape == [] && tensors["n"]?.toArray() == [263])
        #expect(tensors["k"]?.toArray() == [-2, 3])
    }

    @Test func offsetsOutOfRange() throws {
        let path = try temporaryPath("range.safetensors")
        try writeSafetensors(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
                             data: f32Bytes([1, 2]), to: path)
        expectLoadError(path, mentioning: "'w'", "16")
    }

    @Test func overlappingOffsets() throws {
        let path = try temporaryPath("overlap.safetensors")
        try writeSafetensors(header: """
            {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
            "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}
            """, data: f32Bytes([1, 2, 3]), to: path)
        expectLoadError(path, mentioning: "overlaps")
    }

    @Test func sizeDoesNotMatchShape() throws {
        let path = try temporaryPath("size.safetensors")
        try writeSafetensors(header: #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#,
                             data: f32Bytes([1, 2, 3]), to: path)
        expectLoadError(path, mentioning: "'w'", "[2, 2]", "16 bytes")
    }

    @Test func badEntryAndMetadata() throws {
        let entry = try temporaryPath("entry.safetensors")
        try writeSafetensors(header: #"{"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#,
                             data: f32Bytes([1, 2]), to: entry)
        expectLoadError(entry, mentioning: "'w'")
        let metadata = try temporaryPath("metadata.safetensors")
        try writeSafetensors(header: #"{"__metadata__":{"epoch":3}}"#, data: [], to: metadata)
        expectLoadError(metadata, mentioning: "__metadata__")
        let array = try temporaryPath("array.safetensors")
        try writeSafetensors(header: "[1, 2]", data: [], to: array)
        expectLoadError(array, mentioning: "not an object")
    }

    @Test func truncatedFile() throws {
        let good = try temporaryPath("good.safetensors")
        try saveSafetensors(["a": Tensor([1, 2, 3]), "b": Tensor([4, 5])], to: good)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        let cut = try temporaryPath("cut.safetensors")
        try Data(bytes.dropLast(4)).write(to: URL(fileURLWithPath: cut))
        expectLoadError(cut, mentioning: "truncated", "'b'")
        let headerOnly = try temporaryPath("header-cut.safetensors")
        try Data(bytes.prefix(20)).write(to: URL(fileURLWithPath: headerOnly))
        expectLoadError(headerOnly, mentioning: "header length")
    }

    @Test func trailingBytesAreRejected() throws {
        let path = try temporaryPath("trailing.safetensors")
        try writeSafetensors(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                             data: f32Bytes([1, 2]), to: path)
        expectLoadError(path, mentioning: "4 bytes after")
    }

    /// A shape with no elements but huge other sizes (found writing the fuzz target):
    /// its byte count is 0, but its strides overflow, which trapped.
    @Test func anEmptyShapeTooLargeForItsStridesIsAnError() throws {
        let path = try temporaryPath("wide.safetensors")
        try writeSafetensors(header: #"{"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#,
                             data: [], to: path)
        expectLoadError(path, mentioning: "'w'", "too large")
        // Empty, but within bounds: loads.
        try writeSafetensors(header: #"{"w":{"dtype":"F32","shape":[0,4294967296],"data_offsets":[0,0]}}"#,
                             data: [], to: path)
        #expect(try loadSafetensors(from: path)["w"]?.shape == [0, 4294967296])
    }

    // MARK: Bytes in memory

    @Test func bytesInMemoryLoadAsTheFileDoes() throws {
        let path = try temporaryPath("memory.safetensors")
        try saveSafetensors(["w": Tensor([1, 2, 3, 4], shape: [2, 2])], to: path, metadata: ["epoch": "3"])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let loaded = try loadSafetensors(bytes: bytes, name: "upload")
        #expect(loaded["w"]?.shape == [2, 2] && loaded["w"]?.toArray() == [1, 2, 3, 4])
        #expect(try loadSafetensorsMetadata(bytes: bytes, name: "upload") == ["epoch": "3"])
        let error = #expect(throws: SafetensorsError.self) { _ = try loadSafetensors(bytes: Array(bytes.prefix(5)), name: "upload") }
        #expect(error?.description.hasPrefix("upload: ") == true, "\(String(describing: error))")
    }

    // MARK: Interoperability with Python

    @Test func readsAFileWrittenByPythonSafetensors() throws {
        let data = try #require(Bundle.module.url(forResource: "Data", withExtension: nil))
        let path = data.appendingPathComponent("python_fixture.safetensors").path
        let loaded = try loadSafetensors(from: path)
        #expect(Set(loaded.keys) == ["layer.weight", "layer.bias", "scale", "double"])
        #expect(loaded["layer.weight"]?.shape == [2, 3])
        #expect(loaded["layer.weight"]?.toArray() == [-0.5, -0.25, 0, 0.25, 0.5, 0.75])
        #expect(loaded["layer.bias"]?.shape == [3])
        #expect(loaded["layer.bias"]?.toArray() == [0.1, -0.2, 3.5])
        #expect(loaded["scale"]?.shape == [1])
        #expect(loaded["scale"]?.toArray() == [2.5])
        #expect(loaded["double"]?.shape == [4])
        #expect(loaded["double"]?.toArray() == [Float(1.0 / 3.0), Float(-1e-3), Float(1e10), 0])
        #expect(try loadSafetensorsMetadata(from: path) == ["format": "np", "source": "make_safetensors_fixture.py"])
    }
}
