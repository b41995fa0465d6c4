/**
 * Regression found in review (2026-11-24): work done inside `unconstrained`
 * still counted against the coop budget, driving it negative, so operations
 * the same poll made after leaving `unconstrained` were deferred for nothing.
 */
import { noopWaker, unconstrained } from '../src';
import { enterTask, exitTask, pollProceed, remainingBudget, restoreUnit, TASK_BUDGET } from '../src/task/coop';

test('unconstrained work spends no budget; the rest of the poll keeps its full budget', () => {
  const saved = enterTask();
  try {
    unconstrained(() => {
      for (let i = 0; i < TASK_BUDGET * 4; i++) expect(pollProceed(noopWaker)).toBe(true);
      restoreUnit(); // a no-progress restore inside does not inflate it either
    });
    expect(remainingBudget()).toBe(TASK_BUDGET);
    // Constrained again: exactly TASK_BUDGET operations proceed, then it defers.
    let proceeded = 0;
    while (proceeded <= TASK_BUDGET && pollProceed(noopWaker)) proceeded++;
    expect(proceeded).toBe(TASK_BUDGET);
  } finally {
    exitTask(saved);
  }
});
