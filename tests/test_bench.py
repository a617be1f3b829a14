"""The benchmark compares like with like: every row of a step table trains the same weights on
the same batches with the same optimizer, and a row that does other math is caught."""

import dataclasses

import pytest

from zoo.bench.steps import check_same_math, compose_workload, hand_loop, resident_slices, rows


@pytest.fixture(scope="module")
def workload():
    return compose_workload(
        ["experiment=mlp_digits", "scheduler=none", "trainer.enable_progress_bar=false"], 2, "cpu"
    )


def test_every_step_row_ends_on_the_hand_loops_loss(workload):
    results = {name: measure() for name, measure in rows(workload).items()}
    assert check_same_math(results, tolerance=1e-5) == []
    assert all(m.ms_per_step > 0 and m.samples_per_s > 0 for m in results.values())


def test_a_row_that_trains_otherwise_is_caught(workload):
    other = dataclasses.replace(
        workload, optimizer=lambda params: workload.optimizer(params=params, lr=3e-3)
    )
    results = {
        "baseline": hand_loop(workload, resident_slices),
        "other lr": hand_loop(other, resident_slices),
    }
    (mismatch,) = check_same_math(results, tolerance=1e-4)
    assert mismatch.startswith("other lr: final loss")
