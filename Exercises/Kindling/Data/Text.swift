// Text for the sequence lessons (13–14): a corpus of records, a character
// vocabulary, and a dataset of (input, next-character target) windows.
//
// Two corpora come from Debian packages:
// - `fortunes` (`sudo apt-get install fortunes`): 2.6 MB of English quips,
//   quotations and jokes under /usr/share/games/fortunes/, one file per
//   theme; records end with a line holding only `%`.
// - `wamerican` (`sudo apt-get install wamerican`): /usr/share/dict/words,
//   104,334 English words, one per line — short sequences for a
//   makemore-style word model.

import Foundation

/// A body of text cut into records (fortunes, or words), with a
/// deterministic train/validation split.
public struct TextCorpus: Sendable {
    /// What the records are ("fortunes", "words", or a file's name).
    public let name: String
    /// Every record, in the order read.
    public let records: [String]

    /// A corpus of the given records.
    public init(name: String, records: [String]) {
        self.name = name
        self.records = records
    }

    /// Where the Debian package `fortunes` installs its files.
    public static let fortunesDirectory = "/usr/share/games/fortunes"
    /// Where the Debian package `wamerican` installs its word list.
    public static let wordsFile = "/usr/share/dict/words"

    /// The fortunes of every plain file in `directory`, in file-name order.
    /// The `.dat` files (strfile's indexes), the `.u8` links (the same files
    /// again) and subfolders are skipped. Throws a `DataError` naming the
    /// folder and the package to install if there are no fortune files.
    public static func fortunes(directory: String = fortunesDirectory) throws -> TextCorpus {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var records: [String] = []
        for name in names.sorted() where !name.hasSuffix(".dat") && !name.hasSuffix(".u8") && !name.hasPrefix(".") {
            let path = directory + "/" + name
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            guard attributes?[.type] as? FileAttributeType == .typeRegular,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            records += fortuneRecords(String(decoding: data, as: UTF8.self))
        }
        guard !records.isEmpty else {
            throw DataError(path: directory, reason: """
                no fortune files here\(FileManager.default.fileExists(atPath: directory) ? "" : " (the folder does not exist)").
                To get them: install with `sudo apt-get install fortunes`, or name a folder of fortune files.
                """)
        }
        return TextCorpus(name: "fortunes", records: records)
    }

    /// The records of one fortune file: the text between lines holding only
    /// `%`, each keeping its final newline; empty records are dropped.
    public static func fortuneRecords(_ text: String) -> [String] {
        var records: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "%" {
                if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { records.append(current) }
                current = ""
            } else {
                current += line + "\n"
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { records.append(current) }
        return records
    }

    /// One word per record from a word list (`wamerican`'s by default):
    /// lowercase words of letters only, so "Zürich" and "can't" are left out
    /// and the vocabulary is the 26 letters.
    public static func words(path: String = wordsFile) throws -> TextCorpus {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, reason: """
                no word list here.
                To get it: install with `sudo apt-get install wamerican`, or name a file with one word per line.
                """)
        }
        let words = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { word in !word.isEmpty && word.unicodeScalars.allSatisfy { ("a"..."z").contains($0) } }
        guard !words.isEmpty else { throw DataError(path: path, reason: "no lowercase words in this file") }
        return TextCorpus(name: "words", records: words)
    }

    /// The records that go to validation: every tenth one (indices 9, 19,
    /// 29, …), the same on every run and spread over every file and theme.
    public static func isValidation(_ index: Int) -> Bool { index % 10 == 9 }

    /// 90 % of the records, for training.
    public var training: [String] { records.indices.filter { !Self.isValidation($0) }.map { records[$0] } }
    /// The other 10 %, held out to measure the loss on text not trained on.
    public var validation: [String] { records.indices.filter(Self.isValidation).map { records[$0] } }
}

/// The characters a model reads and writes, each with an integer id.
public struct CharacterVocabulary: Sendable, Equatable {
    /// The characters, in id order (sorted by Unicode scalar value).
    public let characters: [Character]
    private let ids: [Character: Int]

    /// The characters that occur in `texts`, sorted, plus any `extra` ones
    /// (a record separator, say).
    public init(_ texts: [String], extra: [Character] = []) {
        var seen = Set(extra)
        for text in texts { seen.formUnion(text) }
        self.init(characters: seen.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })
    }

    /// A vocabulary with exactly these characters, in this order (as saved
    /// beside a model's weights).
    public init(characters: [Character]) {
        self.characters = characters
        var ids: [Character: Int] = [:]
        for (i, c) in characters.enumerated() { ids[c] = i }
        self.ids = ids
    }

    /// How many characters.
    public var count: Int { characters.count }

    /// The id of `c`, or `nil` if it is not in the vocabulary.
    public func id(of c: Character) -> Int? { ids[c] }

    /// The ids of `text`'s characters; characters outside the vocabulary are
    /// skipped (a prompt may hold one the corpus never had).
    public func encode(_ text: String) -> [Int] { text.compactMap { ids[$0] } }

    /// The text of `ids`.
    public func decode(_ ids: [Int]) -> String {
        String(ids.map { id in
            require(id >= 0 && id < characters.count, "decode: id \(id) is outside the vocabulary of \(characters.count)")
            return characters[id]
        })
    }

    /// The characters as one string, to store in a weights file's metadata.
    public var text: String { String(characters) }
}

/// Windows of a text, each an input of `length` character ids and the
/// target: the same window shifted by one, so position t is asked to
/// predict character t + 1. `example(at:)` gives [length] tensors holding
/// the ids as whole numbers (`Tensor` holds `Float`, exact for ids below 2²⁴);
/// a batch stacks them to [B, length].
public struct TextDataset: Dataset {
    /// Every character id of the text, in order.
    public let ids: [Int]
    /// Characters per window.
    public let length: Int
    /// Characters between the starts of consecutive windows.
    public let stride: Int

    /// The windows of `ids`: starts 0, stride, 2·stride, … while a whole
    /// window and its one-character-later target fit. `stride` defaults to
    /// `length` (windows side by side, each character a target once).
    public init(ids: [Int], length: Int, stride: Int? = nil) {
        require(length >= 1, "TextDataset: the window length must be at least 1, got \(length)")
        let step = stride ?? length
        require(step >= 1, "TextDataset: the stride must be at least 1, got \(step)")
        require(ids.count >= length + 1,
                "TextDataset: a text of \(ids.count) characters is too short for one window of \(length) and its target")
        self.ids = ids
        self.length = length
        self.stride = step
    }

    /// The records joined into one stream, each followed by `separator`
    /// (fortunes: "%\n", as in their files; words: "\n"), then encoded.
    public init(records: [String], separator: String, vocabulary: CharacterVocabulary, length: Int, stride: Int? = nil) {
        self.init(ids: vocabulary.encode(records.map { $0 + separator }.joined()), length: length, stride: stride)
    }

    public var count: Int { (ids.count - length - 1) / stride + 1 }

    public func example(at index: Int) -> (input: Tensor, target: Tensor) {
        require(index >= 0 && index < count, "TextDataset: window \(index) is out of range for \(count) windows")
        let start = index * stride
        return (Tensor(ids[start..<start + length].map(Float.init), shape: [length]),
                Tensor(ids[start + 1...start + length].map(Float.init), shape: [length]))
    }

    /// The windows at `indices` as [B, length] inputs and targets, built in
    /// one pass (the fast path of stacking B examples).
    public func batch(_ indices: [Int]) -> Batch {
        require(!indices.isEmpty, "batch: needs at least one index")
        var inputs: [Float] = [], targets: [Float] = []
        inputs.reserveCapacity(indices.count * length)
        targets.reserveCapacity(indices.count * length)
        for index in indices {
            require(index >= 0 && index < count, "TextDataset: window \(index) is out of range for \(count) windows")
            let start = index * stride
            for t in start..<start + length {
                inputs.append(Float(ids[t]))
                targets.append(Float(ids[t + 1]))
            }
        }
        return Batch(inputs: Tensor(inputs, shape: [indices.count, length]),
                     targets: Tensor(targets, shape: [indices.count, length]))
    }
}
