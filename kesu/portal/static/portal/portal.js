/* Resident portal: the only script. Everything works without it; with it, photos are shrunk on the
   phone before upload (at most 1600 px, JPEG, which also drops the location stored in the photo), the
   chosen photos are previewed, forms are sent once, and "send the code again" waits its minute.
   Words it shows come from the page (data-* attributes, translated there). */
(function () {
  "use strict";

  var MAX_SIDE = 1600;
  var QUALITY = 0.82;

  function canReplaceFiles() {
    try {
      return typeof DataTransfer === "function" && !!new DataTransfer().items;
    } catch (e) {
      return false;
    }
  }

  function loadImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        resolve({ img: img, url: url });
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("not an image this browser can read"));
      };
      img.src = url;
    });
  }

  function baseName(name) {
    var dot = name.lastIndexOf(".");
    return (dot > 0 ? name.slice(0, dot) : name || "photo").slice(0, 60);
  }

  /* A smaller JPEG of the photo, or the original when the browser cannot read it (the server decides). */
  function shrink(file) {
    if (!/^image\//.test(file.type) || file.type === "image/gif") {
      return Promise.resolve(file);
    }
    return loadImage(file).then(
      function (loaded) {
        var img = loaded.img;
        var w = img.naturalWidth;
        var h = img.naturalHeight;
        var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(w * scale));
        canvas.height = Math.max(1, Math.round(h * scale));
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(loaded.url);
        return new Promise(function (resolve) {
          canvas.toBlob(
            function (blob) {
              resolve(blob ? new File([blob], baseName(file.name) + ".jpg", { type: "image/jpeg" }) : file);
            },
            "image/jpeg",
            QUALITY
          );
        });
      },
      function () {
        return file;
      }
    );
  }

  function setBusy(form, busy, text) {
    var buttons = form.querySelectorAll("button[type=submit]");
    Array.prototype.forEach.call(buttons, function (b) {
      if (busy) {
        if (!b.dataset.label) b.dataset.label = b.textContent;
        b.textContent = text || b.dataset.busy || b.textContent;
        b.disabled = true;
      } else {
        b.disabled = false;
        if (b.dataset.label) b.textContent = b.dataset.label;
      }
    });
  }

  function renderPreviews(form) {
    var box = form.querySelector("[data-previews]");
    if (!box) return;
    Array.prototype.forEach.call(box.querySelectorAll("img"), function (img) {
      URL.revokeObjectURL(img.src);
    });
    box.textContent = "";
    Array.prototype.forEach.call(form.querySelectorAll("[data-photos]"), function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        var fig = document.createElement("figure");
        var img = document.createElement("img");
        img.alt = form.getAttribute("data-photo-alt") || "已选照片";
        img.src = URL.createObjectURL(file);
        var cap = document.createElement("figcaption");
        cap.textContent = Math.max(1, Math.round(file.size / 1024)) + " KB";
        fig.appendChild(img);
        fig.appendChild(cap);
        box.appendChild(fig);
      });
    });
  }

  function countPhotos(form, except) {
    var n = 0;
    Array.prototype.forEach.call(form.querySelectorAll("[data-photos]"), function (input) {
      if (input !== except) n += (input.files || []).length;
    });
    return n;
  }

  function onPhotos(event) {
    var input = event.target;
    var form = input.form;
    var max = parseInt(form.getAttribute("data-max-photos") || "6", 10);
    var files = Array.prototype.slice.call(input.files || []);
    var room = Math.max(0, max - countPhotos(form, input));
    var dropped = files.length > room;
    files = files.slice(0, room);
    if (!canReplaceFiles()) {
      renderPreviews(form);
      return;
    }
    setBusy(form, true, form.getAttribute("data-photos-busy") || "正在处理照片…");
    Promise.all(files.map(shrink)).then(function (small) {
      var dt = new DataTransfer();
      small.forEach(function (f) {
        dt.items.add(f);
      });
      input.files = dt.files;
      renderPreviews(form);
      setBusy(form, false);
      if (dropped) {
        window.alert(form.getAttribute("data-photos-dropped") || "最多上传 " + max + " 张照片，多出的没有加上。");
      }
    });
  }

  function countdown(button) {
    var wait = parseInt(button.getAttribute("data-wait") || "0", 10);
    if (!wait) return;
    var label = button.textContent;
    // The page's words for "(n s)", in its language: "（{seconds}秒）" in Chinese.
    var words = button.getAttribute("data-wait-words") || "（{seconds}秒）";
    function show() {
      button.textContent = label + words.replace("{seconds}", wait);
    }
    button.disabled = true;
    var timer = window.setInterval(function () {
      wait -= 1;
      if (wait <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
      } else {
        show();
      }
    }, 1000);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-photos]"), function (input) {
      input.addEventListener("change", onPhotos);
    });
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), function (form) {
      form.addEventListener("submit", function () {
        window.setTimeout(function () {
          setBusy(form, true);
        }, 0);
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button[data-wait]"), countdown);
  });
})();
