// safetensors: the weight-file format of Hugging Face and PyTorch users, so a
// Kindling model and a PyTorch model can exchange weights.
//
//     8 bytes     N, the header length (unsigned, little-endian)
//     N bytes     a JSON object, padded with spaces to a multiple of 8:
//                 {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
//                  "__metadata__": {"framework": "kindling"}}
//     the rest    the tensors' raw little-endian bytes; data_offsets count from here
//
// A file can be wrong in many ways; each one is a thrown `SafetensorsError`.

import Foundation

/// What went wrong saving or loading a safetensors file: which file, and why.
public struct SafetensorsError: Error, CustomStringConvertible {
    /// The file the error is about.
    public let path: String
    /// What was wrong, in words.
    public let reason: String

    /// An error about `path`, explained by `reason`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "path: reason".
    public var description: String { "\(path): \(reason)" }
}

/// Writes `tensors` (a state dict) to a safetensors file as F32, names sorted,
/// with optional string `metadata`. The file appears atomically: it is written
/// under a temporary name and then renamed, so a crash never leaves half a file.
public func saveSafetensors(_ tensors: [String: Tensor], to path: String, metadata: [String: String] = [:]) throws {
    var header: [String: Any] = [:]
    var data: [UInt8] = []
    for name in tensors.keys.sorted() {
        guard name != metadataKey else {
            throw SafetensorsError(path: path, reason: "a tensor may not be called \(metadataKey)")
        }
        let tensor = tensors[name]!
        let begin = data.count
        appendLittleEndian(tensor.toArray(), to: &data)
        header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [begin, data.count]]
    }
    if !metadata.isEmpty { header[metadataKey] = metadata }

    var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    json += Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8)  // as the Python library pads
    var file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
    file += json
    file += data
    try writeAtomically(file, to: path)
}

/// Reads every tensor in a safetensors file, converting F64, F16 and BF16 to `Float`.
///
/// Throws a `SafetensorsError` naming the file for anything malformed: a bad
/// header length, invalid JSON, an unsupported dtype, offsets that overlap or
/// leave the data, a size that does not match the shape, or a truncated file.
public func loadSafetensors(from path: String) throws -> [String: Tensor] {
    try loadSafetensors(bytes: readSafetensorsFile(path), name: path)
}

/// Reads the `__metadata__` strings of a safetensors file (empty if it has none).
public func loadSafetensorsMetadata(from path: String) throws -> [String: String] {
    try loadSafetensorsMetadata(bytes: readSafetensorsFile(path), name: path)
}

/// Reads every tensor of a safetensors file already in memory; `name` (the
/// file's path) is what error messages call it. The bytes are untrusted:
/// anything malformed is a thrown `SafetensorsError`, as for `loadSafetensors(from:)`.
public func loadSafetensors(bytes: [UInt8], name: String) throws -> [String: Tensor] {
    try SafetensorsFile(bytes: bytes, path: name).tensors()
}

/// Reads the `__metadata__` strings of a safetensors file already in memory
/// (empty if it has none), checking the whole header as `loadSafetensors` does.
public func loadSafetensorsMetadata(bytes: [UInt8], name: String) throws -> [String: String] {
    try SafetensorsFile(bytes: bytes, path: name).metadata
}

// MARK: - Writing

private let metadataKey = "__metadata__"

/// Appends `values` as little-endian F32 bytes.
private func appendLittleEndian(_ values: [Float], to data: inout [UInt8]) {
    #if _endian(little)
    values.withUnsafeBytes { data.append(contentsOf: $0) }  // fast path: memory already has the file's layout
    #else
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    #endif
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
private func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = path + ".\(UUID().uuidString).tmp"
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
    } catch {
        throw SafetensorsError(path: path, reason: "cannot write \(temporary): \(error.localizedDescription)")
    }
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(atPath: temporary)
        throw SafetensorsError(path: path, reason: "cannot rename \(temporary) into place: \(reason)")
    }
}

// MARK: - Reading

/// The element types we can read, and their sizes in bytes.
private enum DType: String {
    case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16"
    /// Integers, such as batch norm's `num_batches_tracked` in a PyTorch state dict.
    case i64 = "I64", i32 = "I32"

    var size: Int {
        switch self {
        case .f32, .i32: 4
        case .f64, .i64: 8
        case .f16, .bf16: 2
        }
    }
}

/// One tensor's header entry: where its bytes are and what they mean.
private struct Entry {
    let name: String
    let dtype: DType
    let shape: [Int]
    let begin: Int, end: Int
}

/// A safetensors file read into memory and checked, ready to decode.
private struct SafetensorsFile {
    let path: String
    let bytes: [UInt8]
    let dataStart: Int
    let entries: [Entry]
    let metadata: [String: String]

    /// Checks the header and layout of a file's `bytes`, throwing on any malformation.
    init(bytes: [UInt8], path: String) throws {
        func fail(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, reason: reason) }
        guard bytes.count >= 8 else {
            throw fail("truncated: the file has \(bytes.count) bytes, too few for the 8-byte header length")
        }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("bad header length \(headerLength): only \(bytes.count - 8) bytes follow it "
                       + "(truncated, or not a safetensors file)")
        }
        let dataStart = 8 + Int(headerLength)
        let header = try parseHeader(Array(bytes[8..<dataStart]), fail: fail)
        self.path = path
        self.bytes = bytes
        self.dataStart = dataStart
        self.metadata = try parseMetadata(header[metadataKey], fail: fail)
        self.entries = try header.filter { $0.key != metadataKey }
            .map { try parseEntry(name: $0.key, $0.value, fail: fail) }
        try checkLayout(entries, dataLength: bytes.count - dataStart, fail: fail)
    }

    /// Every tensor, decoded to `Float`.
    func tensors() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
            for e in entries {
                let storage = decode(UnsafeRawBufferPointer(rebasing: data[e.begin..<e.end]), as: e.dtype)
                result[e.name] = Tensor(storage: storage, shape: e.shape)
            }
        }
        return result
    }
}

/// The whole file as bytes, or a `SafetensorsError` saying why it cannot be read.
private func readSafetensorsFile(_ path: String) throws -> [UInt8] {
    guard let contents = FileManager.default.contents(atPath: path) else {
        let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
        throw SafetensorsError(path: path, reason: reason)
    }
    return [UInt8](contents)
}

/// The header's JSON object.
private func parseHeader(_ json: [UInt8], fail: (String) -> SafetensorsError) throws -> [String: Any] {
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: Data(json))
    } catch {
        throw fail("the header is not valid JSON (\(error.localizedDescription))")
    }
    guard let header = object as? [String: Any] else { throw fail("the header is JSON but not an object") }
    return header
}

/// The optional `__metadata__` object, which must map strings to strings.
private func parseMetadata(_ value: Any?, fail: (String) -> SafetensorsError) throws -> [String: String] {
    guard let value else { return [:] }
    guard let metadata = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
    return metadata
}

/// One tensor's entry, with its dtype, shape and byte count checked.
private func parseEntry(name: String, _ value: Any, fail: (String) -> SafetensorsError) throws -> Entry {
    guard let fields = value as? [String: Any],
          let dtypeName = fields["dtype"] as? String,
          let shape = integers(fields["shape"]),
          let offsets = integers(fields["data_offsets"]) else {
        throw fail("tensor '\(name)' needs a string dtype, an integer shape and integer data_offsets")
    }
    guard let dtype = DType(rawValue: dtypeName) else {
        throw fail("tensor '\(name)' has unsupported dtype \(dtypeName); only F32, F64, F16, BF16, I64 and I32 can be loaded")
    }
    guard shape.allSatisfy({ $0 >= 0 }), offsets.count == 2, 0 <= offsets[0], offsets[0] <= offsets[1] else {
        throw fail("tensor '\(name)' has an invalid shape \(shape) or data_offsets \(offsets)")
    }
    let span = offsets[1] - offsets[0]
    guard let size = byteCount(shape, elementSize: dtype.size) else {
        throw fail("tensor '\(name)': shape \(shape) is too large (its sizes multiply past \(Int.max))")
    }
    guard size == span else {
        throw fail("tensor '\(name)': shape \(shape) of \(dtypeName) needs \(size) bytes, "
                   + "data_offsets \(offsets) hold \(span)")
    }
    return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
}

/// The bytes a tensor of `shape` occupies, or `nil` if the shape is too large
/// for `Int`. A size of 0 counts as 1 in that check, as it does for strides
/// (`contiguousStrides`): `[0, 2³², 2³²]` holds no bytes, but its strides
/// cannot be computed, so it is refused too.
private func byteCount(_ shape: [Int], elementSize: Int) -> Int? {
    var total = elementSize
    for n in shape {
        let (product, overflow) = total.multipliedReportingOverflow(by: max(n, 1))
        if overflow { return nil }
        total = product
    }
    return shape.contains(0) ? 0 : total
}

/// A JSON array of integers, or `nil`.
private func integers(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    let numbers = array.compactMap { $0 as? Int }
    return numbers.count == array.count ? numbers : nil
}

/// The tensors must tile the data exactly: inside it, no overlaps, no gaps.
private func checkLayout(_ entries: [Entry], dataLength: Int, fail: (String) -> SafetensorsError) throws {
    var covered = 0
    for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
        guard e.end <= dataLength else {
            throw fail("truncated: tensor '\(e.name)' needs bytes \(e.begin)..<\(e.end), the data has \(dataLength)")
        }
        guard e.begin >= covered else { throw fail("tensor '\(e.name)' overlaps another tensor's data") }
        guard e.begin == covered else { throw fail("a gap of unused bytes before tensor '\(e.name)'") }
        covered = e.end
    }
    guard covered == dataLength else {
        throw fail("\(dataLength - covered) bytes after the last tensor's data are not described by the header")
    }
}

/// The tensor's bytes converted to `Float`s in fresh storage.
private func decode(_ raw: UnsafeRawBufferPointer, as dtype: DType) -> Storage {
    let count = raw.count / dtype.size
    let storage = Storage(uninitializedCount: count)
    let out = storage.base
    switch dtype {
    case .f32:
        #if _endian(little)
        if count > 0 { memcpy(out, raw.baseAddress!, raw.count) }  // fast path: the bytes already are Floats
        #else
        for i in 0..<count { out[i] = Float(bitPattern: element(i, of: raw, as: UInt32.self)) }
        #endif
    case .f64:
        for i in 0..<count { out[i] = Float(Double(bitPattern: element(i, of: raw, as: UInt64.self))) }
    case .f16:
        for i in 0..<count { out[i] = floatFromHalf(element(i, of: raw, as: UInt16.self)) }
    case .bf16:
        // bfloat16 is the top half of a Float32: shift it back into place.
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(element(i, of: raw, as: UInt16.self)) << 16) }
    case .i64:
        for i in 0..<count { out[i] = Float(element(i, of: raw, as: Int64.self)) }
    case .i32:
        for i in 0..<count { out[i] = Float(element(i, of: raw, as: Int32.self)) }
    }
    return storage
}

/// The `i`-th little-endian integer of type `T` in `raw` (which need not be aligned).
private func element<T: FixedWidthInteger>(_ i: Int, of raw: UnsafeRawBufferPointer, as type: T.Type) -> T {
    T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
}

/// An IEEE half-precision number (1 sign bit, 5 exponent bits with bias 15,
/// 10 fraction bits) as a `Float`. Every half is exactly representable.
private func floatFromHalf(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 == 0 ? 1 : -1
    let exponent = Int(bits >> 10 & 0x1F)
    let fraction = Float(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24                       // zero or subnormal
    case 31: return fraction == 0 ? sign * .infinity : .nan         // infinity or NaN
    default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}
