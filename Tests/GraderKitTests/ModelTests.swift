import Foundation
import Testing
import GraderKit

@Suite struct ModelTests {
    @Test func exerciseIDsParseAndOrder() {
        #expect(ExerciseID("3.1") == ExerciseID(lesson: 3, number: 1))
        #expect(ExerciseID("3") == nil)
        #expect(ExerciseID("a.1") == nil)
        #expect(ExerciseID("0.1") == nil)
        #expect(ExerciseID(lesson: 2, number: 10) > ExerciseID(lesson: 2, number: 9))
        #expect(ExerciseID(lesson: 10, number: 1) > ExerciseID(lesson: 9, number: 5))
    }

    @Test func exerciseIDsEncodeAsStrings() throws {
        let data = try JSONEncoder().encode([ExerciseID(lesson: 1, number: 2)])
        #expect(String(decoding: data, as: UTF8.self) == #"["1.2"]"#)
        #expect(try JSONDecoder().decode([ExerciseID].self, from: data) == [ExerciseID(lesson: 1, number: 2)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ExerciseID].self, from: Data(#"["x"]"#.utf8)) }
    }
}
