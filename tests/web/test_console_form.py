"""The registration form's typing aids in real Chromium (issue 17 item 3): a clerk types a citizen ID and sees
the birth date and sex filled, picks the 民族 by typing its name, registers (the system allocates the
document number), then presses 登记下一位 Next application and gets an empty form with the type and the
district kept."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from issuer.rules import beijing_day
from tests.web import test_console
from tests.web.browser import chromium, screenshot, wait_for
from tests.web.test_console import sign_in

world = test_console.world  # the console's servers and officers (a fixture)


def value(driver: Any, name: str) -> str:
    return str(driver.execute_script(
        "return document.querySelector(`#register [name=${arguments[0]}]`).value", name))


def type_into(driver: Any, name: str, text: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#register [name={name}]").send_keys(text)


def test_the_form_fills_from_the_citizen_id_and_the_next_application_keeps_type_and_district(
    world: dict[str, Any], tmp_path: Path
) -> None:
    driver = chromium(window="1100,1300")
    try:
        sign_in(driver, world["officer"], "clerk1", world["totp"]["clerk1"])
        assert not driver.find_elements(By.CSS_SELECTOR, "#register [name=document_number]")
        today = beijing_day(int(time.time()))  # the bureau's day, not the machine's (07:00 in Beijing is 23:00 UTC)
        assert value(driver, "valid_from") == today.isoformat()
        assert value(driver, "authority_name") == "北京市公安局朝阳分局" and value(driver, "district") == "110105"
        Select(driver.find_element(By.CSS_SELECTOR, "#register [name=type]")).select_by_value("residence_registration")
        # 阿依古丽·艾山: born 1995-07-21 in Urumqi (650102), 17th digit 2: a woman.
        type_into(driver, "citizen_id", "650102199507213428")
        wait_for(lambda: value(driver, "birth_date") == "1995-07-21", what="birth date from the citizen ID")
        assert value(driver, "sex") == "2"
        type_into(driver, "name", "阿依古丽·艾山")
        type_into(driver, "name_pinyin", "AYIGULI AISHAN")
        type_into(driver, "address", "北京市朝阳区三里屯街道工体北路8号院2号楼1单元602室")
        driver.find_element(By.ID, "ethnicity-filter").send_keys("维吾尔")
        wait_for(lambda: value(driver, "ethnicity") == "5", what="维吾尔族 picked by its name")
        shown = driver.execute_script(
            "return [...document.querySelectorAll('#register [name=ethnicity] option')].filter(o => !o.hidden)"
            ".map(o => o.textContent)")
        assert shown == ["维吾尔族 Uygur"]
        screenshot(driver, "console-register", tmp_path)
        driver.find_element(By.CSS_SELECTOR, "#register button").click()
        wait_for(lambda: driver.find_elements(By.ID, "record-id") or driver.find_elements(By.ID, "error"),
                 what="record page")
        assert driver.find_element(By.ID, "done").text.startswith("已登记 Registered")
        record = world["service"].get_record(driver.find_element(By.ID, "record-id").text)
        permit = record.permit
        assert (permit.holder.birth_date, permit.holder.sex, permit.holder.ethnicity) == (
            datetime.date(1995, 7, 21), 2, 5)
        assert permit.document_number == f"DJK-110105-{permit.valid_from.year}-000001"
        assert permit.document_number in driver.find_element(By.TAG_NAME, "main").text

        driver.find_element(By.ID, "next-application").click()
        wait_for(lambda: driver.find_elements(By.ID, "register"), what="a new form")
        assert value(driver, "type") == "residence_registration" and value(driver, "district") == "110105"
        assert all(value(driver, name) == "" for name in ("citizen_id", "name", "name_pinyin", "address",
                                                           "birth_date", "sex"))
        type_into(driver, "citizen_id", "410102199003151230")  # 张伟: 17th digit 3, a man
        wait_for(lambda: value(driver, "birth_date") == "1990-03-15", what="the next holder's birth date")
        assert value(driver, "sex") == "1"
    finally:
        driver.quit()
