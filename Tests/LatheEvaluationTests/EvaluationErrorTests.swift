import Testing
import LatheEvaluation

@Suite struct EvaluationErrorTests {
    @Test func documentErrorsNameTaskIndexAndField() {
        let error = EvaluationError.invalidDocument(task: "policies", index: 3, field: "answer", message: "missing")
        #expect(error.description == "task policies, document 3, field answer: missing")
    }
}
