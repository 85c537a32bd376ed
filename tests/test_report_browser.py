"""The HTML report in headless Chromium (Debian's chromium + chromedriver, via Selenium).

The browser is started by these tests with its network cut (every request goes to a
closed local proxy, no name resolves, and the DevTools network is set offline), so a
page that tried to fetch anything would log a failed request. scripts/test.sh installs
chromium when it may; elsewhere these tests skip and say why.

GITPROV_SCREENSHOTS=<dir> also saves a screenshot of each page checked (docs/img/ was
made so).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_report import Script, scripted_history

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
except ImportError:  # pragma: no cover - the dev extra has it
    webdriver = None  # type: ignore[assignment]

if webdriver is None or CHROMIUM is None or DRIVER is None:
    pytest.skip(
        "the browser tests need chromium and chromedriver (Debian: apt-get install chromium "
        "chromium-driver; scripts/test.sh does it as root) and selenium (the dev extra)",
        allow_module_level=True,
    )


def start_browser() -> WebDriver:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--proxy-server=http://127.0.0.1:9",  # nothing listens there: no request gets out
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = start_browser()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Script, Path]:
    root = tmp_path_factory.mktemp("report")
    script = scripted_history(root)
    out = root / "site"
    script.gitprov("report", "--out", str(out))
    return script, out


def open_page(driver: WebDriver, path: Path) -> list[dict[str, Any]]:
    """Load ``path``; return the console messages it logged (warnings and errors)."""
    driver.get_log("browser")  # drop what earlier pages said
    driver.get(path.as_uri())
    shots = os.environ.get("GITPROV_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(shots) / (path.stem + ".png")))
    return [m for m in driver.get_log("browser") if m["level"] in ("WARNING", "SEVERE")]


def resources(driver: WebDriver) -> list[str]:
    """Every resource the page requested after the document itself."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return list(names)


def test_every_page_loads_without_console_errors_or_requests(
    browser: WebDriver, site: tuple[Script, Path]
) -> None:
    _, out = site
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        assert open_page(browser, page) == [], page
        assert resources(browser) == [], page
        assert browser.find_element(By.TAG_NAME, "h1").text


def test_the_page_could_not_have_reached_a_network(browser: WebDriver, tmp_path: Path) -> None:
    """The guard works: a page that fetches something logs the failure these tests check."""
    page = tmp_path / "fetch.html"
    page.write_text('<!DOCTYPE html><title>x</title><img src="https://example.com/x.png">')
    messages = open_page(browser, page)
    assert any(m["level"] == "SEVERE" for m in messages)


def test_the_lineage_graph_shows_the_expected_nodes(
    browser: WebDriver, site: tuple[Script, Path]
) -> None:
    _, out = site
    open_page(browser, out / "lineage.html")
    nodes = browser.find_elements(By.CSS_SELECTOR, "svg.graph .node")
    kinds = sorted(n.get_attribute("class").split()[1] for n in nodes)
    # the dataset, base.pt, two versions of tuned.pt, three runs
    assert kinds == ["checkpoint"] * 3 + ["dataset"] + ["run"] * 3
    labels = " ".join(n.get_attribute("aria-label") for n in nodes)
    assert "dataset data" in labels
    assert "checkpoint models/base.pt" in labels
    assert labels.count("checkpoint models/tuned.pt") == 2
    assert all(n.is_displayed() for n in nodes)


def test_clicking_a_node_shows_its_record(browser: WebDriver, site: tuple[Script, Path]) -> None:
    _, out = site
    open_page(browser, out / "lineage.html")
    run = next(
        n
        for n in browser.find_elements(By.CSS_SELECTOR, "svg.graph .node.run")
        if "0.1" in n.get_attribute("aria-label")
    )
    run.click()
    record = browser.find_element(By.ID, "record")
    assert record.find_element(By.TAG_NAME, "h3").text.startswith("run ")
    text = record.text
    assert "train.py 0.1 models/base.pt" in text
    assert "lr=0.1" in text
    assert "seeds\n7" in text
    assert "sha256:" in text  # the digests it read and wrote
    assert "selected" in run.get_attribute("class")
    link = record.find_element(By.LINK_TEXT, "Open its page")
    link.click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Run ")


def test_the_graph_works_from_the_keyboard(browser: WebDriver, site: tuple[Script, Path]) -> None:
    _, out = site
    open_page(browser, out / "lineage.html")
    box = browser.find_element(By.CSS_SELECTOR, ".graph-box")
    svg = box.find_element(By.TAG_NAME, "svg")
    before = svg.get_dom_attribute("viewBox")
    box.send_keys("+")
    assert svg.get_dom_attribute("viewBox") != before
    box.send_keys("0")
    assert svg.get_dom_attribute("viewBox") == before
    dataset = browser.find_element(By.CSS_SELECTOR, "svg.graph .node.dataset")
    box.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("data-id") is not None
    dataset.send_keys(Keys.ENTER)
    assert browser.find_element(By.CSS_SELECTOR, "#record h3").text == "dataset data"


def test_the_checkpoint_page_shows_the_card_and_its_evaluation_chart(
    browser: WebDriver, site: tuple[Script, Path]
) -> None:
    _, out = site
    assert open_page(browser, out / "checkpoints/models-tuned.pt.html") == []
    card = browser.find_element(By.ID, "card")
    assert card.is_displayed()
    assert card.find_element(By.TAG_NAME, "h1").text == "Model Card for tuned"
    chart = browser.find_element(By.CSS_SELECTOR, "svg.eval-chart")
    assert chart.is_displayed()
    assert chart.size["width"] > 300
    points = chart.find_elements(By.CSS_SELECTOR, "g.point circle")
    assert len(points) == 2
    intervals = chart.find_elements(By.CSS_SELECTOR, "g.point line")
    assert len(intervals) == 2  # Wilson intervals, drawn as bars
    focus = browser.find_element(By.CSS_SELECTOR, "svg.graph .node.focus")
    assert "models/tuned.pt" in focus.get_attribute("aria-label")
    assert "models/tuned.pt" in browser.find_element(By.CSS_SELECTOR, "#record h3").text


def test_find_a_node_shows_its_record(browser: WebDriver, site: tuple[Script, Path]) -> None:
    _, out = site
    open_page(browser, out / "lineage.html")
    find = browser.find_element(By.ID, "find")
    option = next(
        o
        for o in find.find_elements(By.TAG_NAME, "option")
        if o.text == "checkpoint models/base.pt"
    )
    option.click()
    assert browser.find_element(By.CSS_SELECTOR, "#record h3").text == "checkpoint models/base.pt"
    chosen = browser.find_element(By.CSS_SELECTOR, "svg.graph .node.selected")
    assert chosen.get_attribute("data-id") == option.get_attribute("value")


CONTRAST = """
function lum(c) {
  const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {
  for (; el; el = el.parentElement) {
    const bg = getComputedStyle(el).backgroundColor;
    if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') { return bg; }
  }
  return 'rgb(255, 255, 255)';
}
const low = [];
for (const el of document.querySelectorAll('body *:not(script):not(style)')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.closest('svg')) { continue; }
  const a = lum(getComputedStyle(el).color), b = lum(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) {
    low.push(el.tagName + ' ' + ratio.toFixed(2) + ' ' + el.textContent.slice(0, 40));
  }
}
return low;
"""


def test_every_text_has_at_least_4_5_to_1_contrast(
    browser: WebDriver, site: tuple[Script, Path]
) -> None:
    """WCAG AA for body text, computed from the rendered colours (SVG labels are checked
    by their fills in report.css: dark text on light node colours)."""
    _, out = site
    for page in ("index.html", "lineage.html", "checkpoints/models-tuned.pt.html"):
        open_page(browser, out / page)
        assert browser.execute_script(CONTRAST) == [], page
    grey = out.parent / "grey.html"  # the check can fail: light grey on white is 2.3:1
    grey.write_text('<!DOCTYPE html><title>x</title><p style="color:#aaa">faint</p>')
    open_page(browser, grey)
    assert browser.execute_script(CONTRAST) == ["P 2.32 faint"]
