// On a phone the menu of 12–15 entries filled the first screen: fold it there, keep it open elsewhere (issue 12).
const menu = document.querySelector("details.menu");
if (menu && window.matchMedia("(max-width: 700px)").matches) menu.open = false;
