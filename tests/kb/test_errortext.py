# ruff: noqa: E501  (real log lines are kept whole: their length is part of the test data)
"""kb.errortext: normalization, error-line ranking and query building on realistic logs."""

import random

import pytest

from kb.errortext import error_lines, normalize, plain_text, query_text

# One real error line per seed document (the source write-ups the project started from,
# found through KB_SEEDS_DIR).
SEED_ERRORS = [
    "/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long",
    "Warning  ProviderCreateFailed  11s (x14 over 98s)  virtual-node-aci-linux/pod-controller  "
    "pod nginx-azurefiles-pvc-acinode-7d55d7679b-ftb5n requires volume azurefilespvc which is of "
    "an unsupported type",
    "Zend OPcache huge_code_pages: mmap(HUGETLB) failed: Cannot allocate memory (12)",
    "PHP Warning:  file_get_contents(): Filename cannot be empty in /var/www/upload.php on line 12",
    "AH00052: child pid 4242 exit signal Bus error (7)",
]


def noisy_log(errors: list[str], *, lines: int = 200, seed: int = 7) -> str:
    """A log of ``lines`` ordinary lines with ``errors`` scattered through it."""
    rng = random.Random(seed)
    noise = []
    for i in range(lines):
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        noise.append(
            f"2024-05-0{1 + i % 9}T12:{i % 60:02d}:{rng.randrange(60):02d}.{rng.randrange(999999)}Z "
            f"INFO GET /api/v1/items/{rng.randrange(10_000)} 200 from {ip} in {rng.randrange(90)}ms"
        )
    for position, error in zip(rng.sample(range(lines), len(errors)), errors, strict=True):
        noise[position] = f"2024-05-01T12:00:00Z {error}"
    return "\n".join(noise)


def test_it_normalizes_timestamps_hashes_ips_paths_and_line_numbers():
    text = (
        "2024-01-02T03:04:05.123Z /docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: "
        "Argument list too long\n"
        "[32495.562824] nfs: server 10.0.0.2 not responding, still trying\n"
        "pod web-7d9f8c6b5-x2k4q requires volume data which is of an unsupported type"
    )
    assert normalize(text).split("\n") == [
        "20-envsubst-on-templates.sh: envsubst: argument list too long",
        "nfs: server <ip> not responding, still trying",
        "pod web requires volume data which is of an unsupported type",
    ]


def test_it_gives_dash_and_bash_variants_the_same_form():
    dash = "/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long"
    bash = "/docker-entrypoint.d/20-envsubst-on-templates.sh: line 53: envsubst: Argument list too long"
    assert normalize(dash) == normalize(bash)


def test_it_applies_nfkc_and_case_folding_to_full_width_text():
    assert normalize("ＥＲＲＯＲ： 引数リストが長すぎます") == "error: 引数リストが長すぎます"


def test_it_keeps_fork_exec_and_reduces_paths_to_their_file_name():
    assert normalize("fork/exec /usr/bin/envsubst: argument list too long") == (
        "fork/exec envsubst: argument list too long"
    )


@pytest.mark.parametrize("error", SEED_ERRORS)
def test_it_finds_each_seed_error_in_a_noisy_log(error):
    log = noisy_log([error])
    assert error_lines(log, limit=3)[0].endswith(error)


def test_it_ranks_all_seed_errors_above_the_noise():
    log = noisy_log(SEED_ERRORS)
    found = error_lines(log, limit=len(SEED_ERRORS))
    assert sorted(line.split("Z ", 1)[1] for line in found) == sorted(SEED_ERRORS)


@pytest.mark.parametrize(
    "error", ["容器啟動失敗：無法掛載 NFS 卷", "錯誤：參數列表過長", "程序因總線錯誤退出"]
)
def test_it_finds_an_error_written_in_traditional_chinese_in_a_noisy_log(error):
    """Error words are listed in both Chinese scripts: a Traditional line is not noise."""
    assert error_lines(noisy_log([error]), limit=3)[0].endswith(error)


def test_it_deduplicates_lines_that_differ_only_by_noise():
    log = "\n".join(
        f"[{100 + i}.000001] nfs: server 10.0.0.{i} not responding, still trying" for i in range(50)
    )
    assert len(error_lines(log)) == 1


def test_it_ranks_warning_events_above_normal_events():
    describe = (
        "Events:\n  Type     Reason            Age   From               Message\n"
        "  ----     ------            ----  ----               -------\n"
        "  Normal   Scheduled         98s   default-scheduler  Successfully assigned default/web\n"
        "  Warning  FailedScheduling  4m9s  default-scheduler  0/3 nodes are available: 3 Too many pods.\n"
    )
    assert error_lines(describe) == [
        "Warning  FailedScheduling  4m9s  default-scheduler  0/3 nodes are available: 3 Too many pods."
    ]


def test_it_builds_a_compact_query_without_noise():
    query = query_text(noisy_log([SEED_ERRORS[0]]))
    assert "envsubst" in query.split()
    assert "argument" in query.split()
    assert "10." not in query and "2024" not in query and "<ip>" not in query


def test_it_caps_the_number_of_query_terms():
    assert len(query_text(noisy_log(SEED_ERRORS), max_terms=8).split()) == 8


def test_it_uses_the_text_itself_when_no_line_looks_like_an_error():
    assert query_text("configmap subpath 更新") == "configmap subpath 更新"


def test_it_finds_the_errors_in_a_one_megabyte_log():
    log = noisy_log(SEED_ERRORS, lines=12_000)
    assert len(log) > 1_000_000
    assert len(error_lines(log, limit=len(SEED_ERRORS))) == len(SEED_ERRORS)
    assert "envsubst" in query_text(noisy_log(SEED_ERRORS[:1], lines=12_000)).split()


def test_it_survives_pathological_lines():
    evil = "/a" * 100_000 + "\n" + "1." * 200_000 + "\n" + ":1" * 200_000
    assert isinstance(normalize(evil), str)
    assert isinstance(error_lines(evil), list)


@pytest.mark.parametrize(
    ("pasted", "read"),
    [
        # Colours (SGR), a cursor move, tput sgr0's "\x1b(B", a window title (OSC, ended by BEL
        # or by ST) and a hyperlink as terminals write them.
        ("\x1b[1;31mERROR\x1b[0m: Too many pods", "ERROR: Too many pods"),
        ("\x1b[2K\x1b[1Gdone\x1b(B\x1b[m", "done"),
        ("\x1b]0;kubectl logs\x07Bus error", "Bus error"),
        ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ text", "link text"),
        # An OSC never ended stops at the line's end: the next line is kept.
        ("\x1b]0;title without end\nBus error", "\nBus error"),
        # The escape character lost on a web page, or shown as "^[" by cat -v.
        ("[31mERROR[0m envsubst: Argument list too long", "ERROR envsubst: Argument list too long"),
        ("^[[33mWARN^[[0m slow", "WARN slow"),
        # Without the reset, brackets are the message's own ("[5m]" is a duration).
        ("retry in [5m] (attempt [3m])", "retry in [5m] (attempt [3m])"),
        # JSON's escapes of non-ASCII characters and of ESC; ASCII ones, surrogates and a
        # line break stay as written (decoding "\u000a" would move every later line).
        ("envsubst: \\u5f15\\u6570\\u30ea\\u30b9\\u30c8", "envsubst: 引数リスト"),
        ('{"log":"\\u001b[31mfailed\\u001b[0m\\n"}', '{"log":"failed\\n"}'),
        (
            "a\\u000ab \\u003c \\ud83d\\ude00 C:\\users",
            "a\\u000ab \\u003c \\ud83d\\ude00 C:\\users",
        ),
        ("a\\u0085b\\u2028c\\u2029d", "a\\u0085b\\u2028c\\u2029d"),
        ("plain text, nothing to do", "plain text, nothing to do"),
    ],
)
def test_plain_text_reads_a_paste_as_a_person_reads_it(pasted, read) -> None:
    assert plain_text(pasted) == read


def test_plain_text_keeps_every_line_where_it_was() -> None:
    pasted = "\n".join(f"\x1b[3{i % 8}mline {i}\x1b[0m \\u00e9" for i in range(500))
    read = plain_text(pasted)
    assert read.count("\n") == pasted.count("\n")
    # No decoded character is one str.splitlines() breaks at (U+0085, U+2028, U+2029, ...).
    every = "".join(f"x\\u{code:04x}" for code in range(0x10000))
    assert len(plain_text(every).splitlines()) == 1
    assert read.splitlines()[321] == "line 321 é"


def test_plain_text_of_unended_escapes_is_the_text_between_them() -> None:
    # Worst cases of the patterns: escapes that never end, and digits that never become "m".
    assert plain_text("\x1b]" * 50_000) == ""
    assert plain_text("\x1b[" + "1;" * 50_000) == "1;" * 50_000
    assert plain_text("[0m" + "[1;2;3;4;5;6" * 10_000) == "[1;2;3;4;5;6" * 10_000
