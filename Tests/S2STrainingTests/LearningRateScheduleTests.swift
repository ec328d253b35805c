import XCTest
@testable import S2STraining

final class LearningRateScheduleTests: XCTestCase {
    func testInverseSqrtWarmupThenDecay() {
        let schedule = LearningRateSchedule(baseRate: 1e-3, warmupUpdates: 100, decay: .inverseSqrt)
        XCTAssertEqual(schedule.rate(atUpdate: 1), 1e-5, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(atUpdate: 50), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(atUpdate: 100), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(atUpdate: 400), 5e-4, accuracy: 1e-9)
        XCTAssertLessThan(schedule.rate(atUpdate: 401), schedule.rate(atUpdate: 400))
    }

    func testPlateauHalvesAfterPatience() {
        var schedule = LearningRateSchedule(baseRate: 1, warmupUpdates: 0, decay: .plateau)
        schedule.plateauPatience = 2
        schedule.recordValidation(score: 5)
        schedule.recordValidation(score: 4)
        XCTAssertEqual(schedule.rate(atUpdate: 10), 1)
        schedule.recordValidation(score: 4.5)
        XCTAssertEqual(schedule.rate(atUpdate: 10), 1)
        schedule.recordValidation(score: 4.2)
        XCTAssertEqual(schedule.rate(atUpdate: 10), 0.5)
        schedule.recordValidation(score: 3)
        XCTAssertEqual(schedule.validationsSinceBest, 0)
        XCTAssertEqual(schedule.rate(atUpdate: 10), 0.5)
    }

    func testLinearFallsToZeroOverTheBudget() {
        let schedule = LearningRateSchedule(baseRate: 1e-3, warmupUpdates: 10, decay: .linear)
        XCTAssertEqual(schedule.rate(atUpdate: 5, budgetUsed: 0.01), 5e-4, accuracy: 1e-9)
        // Never above the line, even while warming up on a short budget.
        XCTAssertEqual(schedule.rate(atUpdate: 5, budgetUsed: 0.9), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(atUpdate: 100, budgetUsed: 0.25), 7.5e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(atUpdate: 100, budgetUsed: 1), 0)
        XCTAssertEqual(schedule.rate(atUpdate: 100, budgetUsed: 1.5), 0)
        // The other decays ignore the budget.
        XCTAssertEqual(LearningRateSchedule(baseRate: 1e-3, warmupUpdates: 10, decay: .constant).rate(atUpdate: 100, budgetUsed: 0.9), 1e-3)
    }

    func testBudgetUsedIsTheShareOfTheNearerLimit() {
        let both = StoppingRule(timeLimitSeconds: 100, maxUpdates: 1000)
        XCTAssertEqual(both.budgetUsed(elapsedSeconds: 50, updates: 100), 0.5)
        XCTAssertEqual(both.budgetUsed(elapsedSeconds: 10, updates: 800), 0.8)
        XCTAssertEqual(both.budgetUsed(elapsedSeconds: 200, updates: 0), 1)
        XCTAssertEqual(StoppingRule(maxEpochs: 3).budgetUsed(elapsedSeconds: 50, updates: 100), 0)
    }

    func testStateRoundTripsThroughJSON() throws {
        var schedule = LearningRateSchedule(baseRate: 2e-3, warmupUpdates: 10, decay: .plateau)
        schedule.recordValidation(score: 3)
        schedule.recordValidation(score: 3.5)
        let decoded = try JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(schedule))
        XCTAssertEqual(decoded, schedule)
    }

    func testStoppingRuleAndDurations() {
        let rule = StoppingRule(timeLimitSeconds: 60, maxEpochs: 3, maxUpdates: 1000, patience: 4)
        XCTAssertNil(rule.reasonToStop(elapsedSeconds: 10, epoch: 3, updates: 999, stalledValidations: 3))
        XCTAssertEqual(rule.reasonToStop(elapsedSeconds: 60, epoch: 1, updates: 0, stalledValidations: 0), .timeLimit)
        XCTAssertEqual(rule.reasonToStop(elapsedSeconds: 0, epoch: 4, updates: 0, stalledValidations: 0), .maxEpochs)
        XCTAssertEqual(rule.reasonToStop(elapsedSeconds: 0, epoch: 1, updates: 1000, stalledValidations: 0), .maxUpdates)
        XCTAssertEqual(rule.reasonToStop(elapsedSeconds: 0, epoch: 1, updates: 1, stalledValidations: 4), .earlyStopping)
        XCTAssertEqual(parseDuration("30m"), 1800)
        XCTAssertEqual(parseDuration("1h30m"), 5400)
        XCTAssertEqual(parseDuration("90s"), 90)
        XCTAssertEqual(parseDuration("2"), 120)
        XCTAssertNil(parseDuration("ten"))
        XCTAssertNil(parseDuration("5x"))
        XCTAssertNil(parseDuration("-3"))
    }
}
import Foundation
